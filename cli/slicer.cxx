/*
 * 3D Slicer command-line modules: `blockwise-corr`, `blockwise-stats`,
 * `blockwise-localcorr`, `blockwise-localstats`, `blockwise-shift`,
 * `blockwise-denoise` and `blockwise-deconvolve`
 * (links to the `blockwise` program) answer --xml with a Slicer Execution
 * Model description, and otherwise run with the arguments Slicer passes:
 * the flags the description declares, then the input and output images.
 * Slicer hands volumes over as NRRD files, which keep origin and direction,
 * so the map lands on the volume it describes.
 */
#include "cli.h"
#include "bw_local.h"
#include "bw_shift.h"
#include "plan.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>

namespace blockwise_cli
{

namespace
{

#define BW_SLICER_STR(x) #x
#define BW_SLICER_XSTR(x) BW_SLICER_STR(x)

const char * const kBlockParameters = R"(  <parameters>
    <label>Blocks</label>
    <description><![CDATA[How the image is cut into blocks.]]></description>
    <integer>
      <name>block</name>
      <longflag>--block</longflag>
      <label>Block size</label>
      <description><![CDATA[Block extent in pixels along X and Y (and Z, unless Block depth is set).]]></description>
      <default>)" BW_SLICER_XSTR(BW_BLOCK_DEFAULT) R"(</default>
      <constraints><minimum>1</minimum><maximum>4096</maximum><step>1</step></constraints>
    </integer>
    <integer>
      <name>blockDepth</name>
      <longflag>--block-depth</longflag>
      <label>Block depth</label>
      <description><![CDATA[Block extent along Z for volumes; 0: the block size.]]></description>
      <default>0</default>
      <constraints><minimum>0</minimum><maximum>4096</maximum><step>1</step></constraints>
    </integer>
    <string-enumeration>
      <name>edge</name>
      <longflag>--edge</longflag>
      <label>Edge blocks</label>
      <description><![CDATA[Blocks cut short by the image edge: partial keeps them (statistics over the pixels they have), trim drops them.]]></description>
      <default>partial</default>
      <element>partial</element>
      <element>trim</element>
    </string-enumeration>
)";

const char * const kThreadsParameter = R"(  <parameters advanced="true">
    <label>Execution</label>
    <description><![CDATA[How the work runs.]]></description>
    <integer>
      <name>threads</name>
      <longflag>--threads</longflag>
      <label>Threads</label>
      <description><![CDATA[Threads for the filter; 0: every core.]]></description>
      <default>0</default>
      <constraints><minimum>0</minimum><maximum>1024</maximum><step>1</step></constraints>
    </integer>
  </parameters>
)";

std::string
Header(const char * title, const char * description)
{
  return std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<executable>\n"
                     "  <category>Filtering.Blockwise</category>\n  <title>") +
         title + "</title>\n  <description><![CDATA[" + description +
         "]]></description>\n  <version>" + bw_version_string() +
         "</version>\n  <documentation-url></documentation-url>\n"
         "  <license></license>\n  <contributor>Blockwise</contributor>\n"
         "  <acknowledgements></acknowledgements>\n";
}

std::string
ImageXml(const char * name, const char * label, const char * channel, int index, const char * description)
{
  return std::string("    <image type=\"scalar\" fileExtensions=\".nrrd\">\n      <name>") + name +
         "</name>\n      <label>" + label + "</label>\n      <channel>" + channel + "</channel>\n      <index>" +
         std::to_string(index) + "</index>\n      <description><![CDATA[" + description +
         "]]></description>\n    </image>\n";
}

/** The closing group of a module over a pair: both images and the
 * correlation map (described by @map), then the execution group. */
std::string
PairImagesXml(const char * map)
{
  return std::string("  </parameters>\n  <parameters>\n    <label>Images</label>\n"
                     "    <description><![CDATA[The pair, and the map.]]></description>\n") +
         ImageXml("inputVolume1", "First image", "input", 0, "The first image of the pair.") +
         ImageXml("inputVolume2", "Second image", "input", 1, "The second image, of the same size.") +
         ImageXml("outputVolume", "Correlation map", "output", 2, map) + "  </parameters>\n" + kThreadsParameter +
         "</executable>\n";
}

/** The same for a module over one image and its statistic map. */
std::string
OneImageXml(const char * map)
{
  return std::string("  </parameters>\n  <parameters>\n    <label>Images</label>\n"
                     "    <description><![CDATA[The image, and the map.]]></description>\n") +
         ImageXml("inputVolume", "Image", "input", 0, "The image.") +
         ImageXml("outputVolume", "Statistic map", "output", 1, map) + "  </parameters>\n" + kThreadsParameter +
         "</executable>\n";
}

std::string
CorrXml()
{
  return Header("Block Correlation",
                "Pearson r between two images in each block: a map of where the images agree and where "
                "they are misaligned. Blocks where either image is constant are NaN.") +
         kBlockParameters + PairImagesXml("Pearson r per block, float32; spacing is the input spacing times the "
                                          "block size.");
}

std::string
StatsXml()
{
  return Header("Block Statistics", "One statistic of the pixels of each block: a smaller image of block means, "
                                    "standard deviations, extremes or counts.") +
         kBlockParameters +
         "    <string-enumeration>\n      <name>statistic</name>\n      <longflag>--stat</longflag>\n"
         "      <label>Statistic</label>\n      <description><![CDATA[What each output pixel holds about "
         "its block.]]></description>\n      <default>mean</default>\n"
         "      <element>mean</element>\n      <element>std</element>\n      <element>var</element>\n"
         "      <element>sum</element>\n      <element>min</element>\n      <element>max</element>\n"
         "      <element>count</element>\n    </string-enumeration>\n"
         "    <integer>\n      <name>ddof</name>\n      <longflag>--ddof</longflag>\n"
         "      <label>Delta degrees of freedom</label>\n      <description><![CDATA[0: population "
         "variance and standard deviation; 1: sample.]]></description>\n      <default>0</default>\n"
         "      <constraints><minimum>0</minimum><maximum>1</maximum><step>1</step></constraints>\n"
         "    </integer>\n" +
         OneImageXml("The statistic per block, float32; spacing is the input spacing times the block size.");
}

/** An <integer> or <double> parameter of a Slicer description. */
std::string
NumberXml(const char * tag, const char * name, const char * flag, const char * label, const char * description,
          const std::string & value, const char * lo, const char * hi)
{
  const std::string t = tag;
  return "    <" + t + ">\n      <name>" + name + "</name>\n      <longflag>" + flag + "</longflag>\n      <label>" +
         label + "</label>\n      <description><![CDATA[" + description + "]]></description>\n      <default>" +
         value + "</default>\n      <constraints><minimum>" + lo + "</minimum><maximum>" + hi + "</maximum><step>" +
         (t == "double" ? "0.1" : "1") + "</step></constraints>\n    </" + t + ">\n";
}

std::string
DoubleXml(const char * name, const char * flag, const char * label, const char * description, const char * value,
          const char * lo, const char * hi)
{
  return NumberXml("double", name, flag, label, description, value, lo, hi);
}

std::string
IntegerXml(const char * name, const char * flag, const char * label, const char * description,
           const std::string & value, const char * lo, const char * hi)
{
  return NumberXml("integer", name, flag, label, description, value, lo, hi);
}

std::string
DenoiseXml()
{
  return Header("Non-Local Means Denoising",
                "Each voxel becomes the mean of the voxels of its search window, weighted by how alike the "
                "patches around them are. For Gaussian noise of known standard deviation, or for fluorescence "
                "(Poisson-Gaussian noise, through the generalised Anscombe transform and its exact unbiased "
                "inverse). Float32 output of the input's geometry.") +
         "  <parameters>\n    <label>Non-local means</label>\n"
         "    <description><![CDATA[Patches, search window and noise.]]></description>\n" +
         IntegerXml("patch", "--patch", "Patch radius",
                    "Patch radius in voxels along every axis: 3 compares 7x7(x7) patches.",
                    std::to_string(BW_NLM_DEFAULT_PATCH), "0", BW_SLICER_XSTR(BW_NLM_MAX_PATCH)) +
         IntegerXml("search", "--search", "Search radius",
                    "Search radius along X and Y (and Z, unless Search depth is set): 10 searches a 21x21 window.",
                    std::to_string(BW_NLM_DEFAULT_SEARCH), "0", BW_SLICER_XSTR(BW_NLM_MAX_SEARCH)) +
         IntegerXml("searchDepth", "--search-depth", "Search depth",
                    "Search radius along Z for volumes; -1: the search radius.", "-1", "-1",
                    BW_SLICER_XSTR(BW_NLM_MAX_SEARCH)) +
         "    <string-enumeration>\n      <name>noise</name>\n      <longflag>--noise</longflag>\n"
         "      <label>Noise model</label>\n      <description><![CDATA[gaussian: additive, of standard "
         "deviation Sigma; poisson-gaussian: photon counts times Gain plus Offset plus read noise of "
         "standard deviation Read sigma.]]></description>\n      <default>gaussian</default>\n"
         "      <element>gaussian</element>\n      <element>poisson-gaussian</element>\n"
         "    </string-enumeration>\n" +
         DoubleXml("sigma", "--sigma", "Sigma", "Standard deviation of Gaussian noise, in image units.", "10", "0",
                   "1e9") +
         DoubleXml("h", "--h", "h", "Filtering strength; 0: 0.8 sigma (0.8 for poisson-gaussian).", "0", "0", "1e9") +
         DoubleXml("gain", "--gain", "Gain", "Poisson-Gaussian: image units per photo-electron.", "1", "1e-9", "1e9") +
         DoubleXml("offset", "--offset", "Offset", "Poisson-Gaussian: the image value of zero photo-electrons.", "0",
                   "-1e9", "1e9") +
         DoubleXml("readSigma", "--read-sigma", "Read sigma",
                   "Poisson-Gaussian: standard deviation of the read noise, in image units.", "0", "0", "1e9") +
         "  </parameters>\n  <parameters>\n    <label>Images</label>\n"
         "    <description><![CDATA[The image, and the denoised image.]]></description>\n" +
         ImageXml("inputVolume", "Image", "input", 0, "The noisy image.") +
         ImageXml("outputVolume", "Denoised image", "output", 1, "The denoised image, float32, same geometry.") +
         "  </parameters>\n" + kThreadsParameter + "</executable>\n";
}

/** localcorr (@pair) or localstats. */
std::string
LocalXml(bool pair)
{
  const std::string window =
    "  <parameters>\n    <label>Windows</label>\n"
    "    <description><![CDATA[The box window around every voxel, clipped to the image.]]></description>\n" +
    IntegerXml("radius", "--radius", "Radius",
               "Window radius in voxels along X and Y (and Z, unless Radius depth is set): 5 gives 11x11(x11) "
               "windows.",
               std::to_string(BW_LOCAL_DEFAULT_RADIUS), "0", BW_SLICER_XSTR(BW_LOCAL_MAX_RADIUS)) +
    IntegerXml("radiusDepth", "--radius-depth", "Radius depth", "Window radius along Z for volumes; -1: the radius.",
               "-1", "-1", BW_SLICER_XSTR(BW_LOCAL_MAX_RADIUS)) +
    IntegerXml("step", "--step", "Step",
               "Output stride along every axis: 1 gives a value at every voxel, 4 at every fourth (a map a "
               "quarter of the size along each axis).",
               std::to_string(BW_LOCAL_DEFAULT_STEP), "1", "4096");
  if (pair)
    return Header("Local Correlation",
                  "Pearson r of the two images in the window around every voxel (local normalised "
                  "cross-correlation): where they agree, at the voxel scale. Windows where either image is "
                  "constant are NaN.") +
           window + PairImagesXml("Pearson r per voxel (per step), float32, over the input's geometry.");
  return Header("Local Statistics", "One statistic of the window around every voxel: a local mean, "
                                    "standard deviation, variance, sum or count.") +
         window +
         "    <string-enumeration>\n      <name>statistic</name>\n      <longflag>--stat</longflag>\n"
         "      <label>Statistic</label>\n      <description><![CDATA[What each output voxel holds about "
         "its window.]]></description>\n      <default>mean</default>\n"
         "      <element>mean</element>\n      <element>std</element>\n      <element>var</element>\n"
         "      <element>sum</element>\n      <element>count</element>\n    </string-enumeration>\n" +
         IntegerXml("ddof", "--ddof", "Delta degrees of freedom", "0: population variance and standard deviation; "
                                                                    "1: sample.",
                    "0", "0", "1") +
         OneImageXml("The statistic per voxel (per step), float32, over the input's geometry.");
}

std::string
ShiftXml()
{
  return Header("Block Displacement",
                "For each block of the fixed image, the shift of the moving image within the search radius that "
                "matches it best (largest Pearson r), refined to a fraction of a voxel: a displacement field with "
                "a vector per block in physical units, which brings the moving image onto the fixed one when "
                "upsampled and applied as a transform. Blocks where no shift gives a defined r are NaN.") +
         "  <parameters>\n    <label>Blocks and search</label>\n"
         "    <description><![CDATA[The blocks compared, and how far to look.]]></description>\n" +
         IntegerXml("block", "--block", "Block size",
                    "Block extent in voxels along X and Y (and Z, unless Block depth is set).",
                    std::to_string(BW_SHIFT_DEFAULT_BLOCK), "1", "4096") +
         IntegerXml("blockDepth", "--block-depth", "Block depth", "Block extent along Z for volumes; 0: the block size.",
                    "0", "0", "4096") +
         IntegerXml("search", "--search", "Search radius",
                    "Largest shift tried, in voxels, along X and Y (and Z, unless Search depth is set).",
                    std::to_string(BW_SHIFT_DEFAULT_SEARCH), "0", BW_SLICER_XSTR(BW_SHIFT_MAX_SEARCH)) +
         IntegerXml("searchDepth", "--search-depth", "Search depth",
                    "Search radius along Z for volumes; -1: the search radius.", "-1", "-1",
                    BW_SLICER_XSTR(BW_SHIFT_MAX_SEARCH)) +
         "  </parameters>\n  <parameters>\n    <label>Images</label>\n"
         "    <description><![CDATA[The pair, and the displacement field.]]></description>\n" +
         ImageXml("inputVolume1", "Fixed image", "input", 0, "The fixed image.") +
         ImageXml("inputVolume2", "Moving image", "input", 1, "The moving image, of the same size.") +
         "    <image type=\"vector\" fileExtensions=\".nrrd\">\n      <name>outputVolume</name>\n"
         "      <label>Displacement field</label>\n      <channel>output</channel>\n      <index>2</index>\n"
         "      <description><![CDATA[A vector per block, float32, in physical units; spacing is the input "
         "spacing times the block size, origin at the first block's centre.]]></description>\n    </image>\n"
         "  </parameters>\n" +
         kThreadsParameter + "</executable>\n";
}

std::string
DeconvolveXml()
{
  return Header("Richardson-Lucy Deconvolution",
                "Richardson-Lucy deconvolution of an image or volume by its point spread function, streamed in "
                "pieces grown by the exact halo, so that the result is the whole volume's. The non-circulant "
                "boundary (default) does not wrap around; Biggs-Andrews acceleration reaches a result in fewer "
                "iterations. Float32 output of the input's geometry.") +
         "  <parameters>\n    <label>Richardson-Lucy</label>\n"
         "    <description><![CDATA[Iterations, acceleration and boundary.]]></description>\n" +
         IntegerXml("iterations", "--iterations", "Iterations", "Richardson-Lucy iterations.", "10", "0", "100000") +
         "    <boolean>\n      <name>accelerate</name>\n      <longflag>--accelerate</longflag>\n"
         "      <label>Accelerate</label>\n      <description><![CDATA[Biggs-Andrews acceleration.]]></description>\n"
         "      <default>false</default>\n    </boolean>\n" +
         DoubleXml("tv", "--tv", "Total variation", "Total-variation regularisation weight (0: none; 0.002 is a "
                   "usual start): flat noise smoothed, edges kept.", "0", "0", "1") +
         "    <string-enumeration>\n      <name>boundary</name>\n      <longflag>--boundary</longflag>\n"
         "      <label>Boundary</label>\n      <description><![CDATA[non-circulant: the object is estimated beyond "
         "the image's edges, nothing wraps around; periodic: as FFT-only tools.]]></description>\n"
         "      <default>non-circulant</default>\n      <element>non-circulant</element>\n"
         "      <element>periodic</element>\n    </string-enumeration>\n"
         "  </parameters>\n  <parameters>\n    <label>Images</label>\n"
         "    <description><![CDATA[The image, its PSF, and the result.]]></description>\n" +
         ImageXml("inputVolume", "Image", "input", 0, "The blurred image.") +
         ImageXml("psfVolume", "PSF", "input", 1, "The point spread function, no larger than the image; "
                                                  "normalised to sum 1, centred at its centre of mass.") +
         ImageXml("outputVolume", "Deconvolved image", "output", 2, "Float32, the input's geometry.") +
         "  </parameters>\n" + kThreadsParameter + "</executable>\n";
}

double
SlicerNumber(const std::string & flag, const std::string & v)
{
  char *       end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end)
    throw UsageError(flag + ": '" + v + "' is not a number");
  return x;
}

long
SlicerInteger(const std::string & flag, const std::string & v, long lo, long hi)
{
  char *     end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo || n > hi)
    throw UsageError(flag + ": '" + v + "' is not a whole number from " + std::to_string(lo) + " to " +
                     std::to_string(hi));
  return n;
}

/** Runs the denoise module: read, denoise, write, with the radii of the
 * description (a volume takes Search depth along Z). */
int
SlicerDenoise(std::map<std::string, std::string> & flags, const std::vector<std::string> & images,
              RunOptions options)
{
  Pipeline p;
  p.name_steps = false;
  p.steps.push_back(ReadStep("in", images[0]));
  Step d = MakeStep("denoised", Op::Denoise, { "in" });
  d.patch = { SlicerInteger("--patch", flags["--patch"], 0, 1L << 20) };
  const long search = SlicerInteger("--search", flags["--search"], 0, 1L << 20);
  const long depth = SlicerInteger("--search-depth", flags["--search-depth"], -1, 1L << 20);
  d.search = { search };
  d.noise = flags["--noise"];
  for (const auto & f : kDenoiseNumbers)
    d.*f.field = SlicerNumber(OptionOf(f.key), flags[OptionOf(f.key)]);
  p.steps.push_back(d);
  p.steps.push_back(WriteStep("denoised", images.back(), "none"));
  if (depth >= 0 && ProbeImage(images[0]).ndim == 3)
    p.steps[1].search = { depth, search, search };

  std::cout << "<filter-start><filter-name>Non-Local Means Denoising</filter-name></filter-start>" << std::endl;
  options.slicer_progress = true;
  Execute(Resolve(p), options);
  std::cout << "<filter-end><filter-name>Non-Local Means Denoising</filter-name></filter-end>" << std::endl;
  return 0;
}

/** Runs the localcorr (@pair) or localstats module: reads, the local
 * statistic with the radii of the description (a volume takes Radius depth
 * along Z), write. */
int
SlicerLocal(std::map<std::string, std::string> & flags, const std::vector<std::string> & images, bool pair,
            RunOptions options)
{
  Pipeline p;
  p.name_steps = false;
  std::vector<std::string> inputs;
  for (size_t i = 0; i + 1 < images.size(); ++i)
  {
    inputs.push_back("in" + std::to_string(i));
    p.steps.push_back(ReadStep(inputs.back(), images[i]));
  }
  Step      l = MakeStep("map", Op::Local, inputs);
  const int ndim = ProbeImage(images[0]).ndim;
  const long radius = SlicerInteger("--radius", flags["--radius"], 0, BW_LOCAL_MAX_RADIUS);
  const long depth = SlicerInteger("--radius-depth", flags["--radius-depth"], -1, BW_LOCAL_MAX_RADIUS);
  l.radius = { radius };
  if (ndim == 3 && depth >= 0)
    l.radius = { depth, radius, radius };
  l.stride = { SlicerInteger("--step", flags["--step"], 1, 4096) };
  l.statistic = pair ? "corr" : flags["--stat"];
  if (!pair)
    l.ddof = static_cast<int>(SlicerInteger("--ddof", flags["--ddof"], 0, 1));
  l.type = "f32";
  p.steps.push_back(l);
  p.steps.push_back(WriteStep("map", images.back(), "none"));

  const char * title = pair ? "Local Correlation" : "Local Statistics";
  std::cout << "<filter-start><filter-name>" << title << "</filter-name></filter-start>" << std::endl;
  options.slicer_progress = true;
  Execute(Resolve(p), options);
  std::cout << "<filter-end><filter-name>" << title << "</filter-name></filter-end>" << std::endl;
  return 0;
}

/** Runs the shift module: reads, the displacement with the block and
 * search of the description (a volume takes their depths along Z), write. */
int
SlicerShift(std::map<std::string, std::string> & flags, const std::vector<std::string> & images, RunOptions options)
{
  Pipeline p;
  p.name_steps = false;
  p.steps.push_back(ReadStep("in0", images[0]));
  p.steps.push_back(ReadStep("in1", images[1]));
  Step       sh = MakeStep("field", Op::Shift, { "in0", "in1" });
  const long block = SlicerInteger("--block", flags["--block"], 1, 4096);
  const long block_depth = SlicerInteger("--block-depth", flags["--block-depth"], 0, 4096);
  const long search = SlicerInteger("--search", flags["--search"], 0, BW_SHIFT_MAX_SEARCH);
  const long search_depth = SlicerInteger("--search-depth", flags["--search-depth"], -1, BW_SHIFT_MAX_SEARCH);
  sh.block = { block };
  sh.search = { search };
  if (ProbeImage(images[0]).ndim == 3)
  {
    sh.block = { block_depth ? block_depth : block, block, block };
    sh.search = { search_depth >= 0 ? search_depth : search, search, search };
  }
  p.steps.push_back(sh);
  p.steps.push_back(WriteStep("field", images.back(), "none"));

  std::cout << "<filter-start><filter-name>Block Displacement</filter-name></filter-start>" << std::endl;
  options.slicer_progress = true;
  Execute(Resolve(p), options);
  std::cout << "<filter-end><filter-name>Block Displacement</filter-name></filter-end>" << std::endl;
  return 0;
}

/** Runs the deconvolve module: reads of the image and the PSF, the
 * deconvolution with the exact halo, write. */
int
SlicerDeconvolve(std::map<std::string, std::string> & flags, const std::vector<std::string> & images,
                 RunOptions options)
{
  Pipeline p;
  p.name_steps = false;
  p.steps.push_back(ReadStep("in", images[0]));
  p.steps.push_back(ReadStep("psf", images[1]));
  Step d = MakeStep("deconvolved", Op::Deconvolve, { "in", "psf" });
  d.iterations = static_cast<int>(SlicerInteger("--iterations", flags["--iterations"], 0, 100000));
  d.accelerate = flags["--accelerate"] == "true";
  d.tv = SlicerNumber("--tv", flags["--tv"]);
  d.boundary = flags["--boundary"];
  d.halo_mode = "exact";
  p.steps.push_back(d);
  p.steps.push_back(WriteStep("deconvolved", images.back(), "none"));
  std::cout << "<filter-start><filter-name>Richardson-Lucy Deconvolution</filter-name></filter-start>" << std::endl;
  options.slicer_progress = true;
  Execute(Resolve(p), options);
  std::cout << "<filter-end><filter-name>Richardson-Lucy Deconvolution</filter-name></filter-end>" << std::endl;
  return 0;
}

} // namespace

int
SlicerModule(const std::string & module, int argc, char ** argv)
{
  const bool corr = module == "corr";
  const bool denoise = module == "denoise";
  const bool local = module == "localcorr" || module == "localstats";
  const bool shift = module == "shift";
  const bool deconvolve = module == "deconvolve";
  const bool pair = corr || shift || deconvolve || module == "localcorr";
  for (int i = 0; i < argc; ++i)
    if (std::strcmp(argv[i], "--xml") == 0)
    {
      std::cout << (corr         ? CorrXml()
                    : denoise    ? DenoiseXml()
                    : local      ? LocalXml(pair)
                    : shift      ? ShiftXml()
                    : deconvolve ? DeconvolveXml()
                                 : StatsXml());
      return 0;
    }

  std::map<std::string, std::string> flags = { { "--threads", "0" } };
  if (denoise)
    flags.insert({ { "--patch", std::to_string(BW_NLM_DEFAULT_PATCH) },
                   { "--search", std::to_string(BW_NLM_DEFAULT_SEARCH) },
                   { "--search-depth", "-1" },
                   { "--noise", "gaussian" }, { "--sigma", "10" }, { "--h", "0" },
                   { "--gain", "1" },    { "--offset", "0" },     { "--read-sigma", "0" } });
  else if (deconvolve)
    flags.insert({ { "--iterations", "10" }, { "--accelerate", "false" }, { "--tv", "0" },
                   { "--boundary", "non-circulant" } });
  else if (shift)
    flags.insert({ { "--block", std::to_string(BW_SHIFT_DEFAULT_BLOCK) },
                   { "--block-depth", "0" },
                   { "--search", std::to_string(BW_SHIFT_DEFAULT_SEARCH) },
                   { "--search-depth", "-1" } });
  else if (local)
    flags.insert({ { "--radius", std::to_string(BW_LOCAL_DEFAULT_RADIUS) },
                   { "--radius-depth", "-1" },
                   { "--step", std::to_string(BW_LOCAL_DEFAULT_STEP) } });
  else
    flags.insert({ { "--block", std::to_string(BW_BLOCK_DEFAULT) }, { "--block-depth", "0" }, { "--edge", "partial" } });
  if (!pair && !denoise)
  {
    flags["--stat"] = "mean";
    flags["--ddof"] = "0";
  }
  std::vector<std::string> images;
  for (int i = 0; i < argc; ++i)
  {
    const std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] == '-')
    {
      const auto it = flags.find(a);
      if (it == flags.end())
        throw UsageError("unknown option '" + a + "' for the " + module + " module");
      // A boolean: Slicer passes the flag alone when it is on, or with
      // "true" / "false".
      if (deconvolve && a == "--accelerate")
      {
        const bool valued = i + 1 < argc && (std::strcmp(argv[i + 1], "true") == 0 || std::strcmp(argv[i + 1], "false") == 0);
        it->second = valued ? argv[++i] : "true";
        continue;
      }
      if (i + 1 >= argc)
        throw UsageError("option " + a + " needs a value");
      it->second = argv[++i];
    }
    else
      images.push_back(a);
  }
  const size_t expected = pair ? 3 : 2;
  if (images.size() != expected)
    throw UsageError(std::string("the ") + module + " module takes " +
                     (deconvolve ? "an input image, its PSF and an output image"
                      : pair     ? "two input images and an output image"
                                 : "an input image and an output image"));

  RunOptions options;
  options.threads = static_cast<int>(SlicerInteger("--threads", flags["--threads"], 0, 1024));
  options.quiet = true;
  if (denoise)
    return SlicerDenoise(flags, images, options);
  if (local)
    return SlicerLocal(flags, images, pair, options);
  if (shift)
    return SlicerShift(flags, images, options);
  if (deconvolve)
    return SlicerDeconvolve(flags, images, options);
  const long block = SlicerInteger("--block", flags["--block"], 1, 1L << 30);
  const long depth = SlicerInteger("--block-depth", flags["--block-depth"], 0, 1L << 30);

  Pipeline p;
  p.name_steps = false;
  for (size_t i = 0; i + 1 < images.size(); ++i)
  {
    p.steps.push_back(ReadStep("in" + std::to_string(i), images[i]));
  }
  Step f = MakeStep("map", corr ? Op::Corr : Op::Stats,
                    corr ? std::vector<std::string>{ "in0", "in1" } : std::vector<std::string>{ "in0" });
  f.statistic = corr ? "correlation" : flags["--stat"];
  f.edge = flags["--edge"];
  if (!corr)
    f.ddof = static_cast<int>(SlicerInteger("--ddof", flags["--ddof"], 0, 1));
  p.steps.push_back(f);
  p.steps.push_back(WriteStep("map", images.back(), "none"));

  // Block sizes, slowest axis first: a volume takes the depth along Z.
  const int ndim = ProbeImage(images[0]).ndim;
  if (ndim == 3)
    p.steps[f.inputs.size()].block = { depth ? depth : block, block, block };
  else
    p.steps[f.inputs.size()].block = { block, block };

  // Slicer shows progress from these lines on stdout.
  std::cout << "<filter-start><filter-name>" << (corr ? "Block Correlation" : "Block Statistics")
            << "</filter-name></filter-start>" << std::endl;
  options.slicer_progress = true;
  Execute(Resolve(p), options);
  std::cout << "<filter-end><filter-name>" << (corr ? "Block Correlation" : "Block Statistics")
            << "</filter-name></filter-end>" << std::endl;
  return 0;
}

} // namespace blockwise_cli
