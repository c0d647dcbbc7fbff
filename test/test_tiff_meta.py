#!/usr/bin/python3
"""Spacing, units and axes from the metadata of other writers, read by the
Blockwise TIFF reader: ImageJ descriptions (unit=, spacing=, hyperstacks),
OME-XML (PhysicalSize and its units, SizeC/SizeZ/SizeT, channel names) and
resolution tags alone (stated or not).

Writer: tifffile (ImageJ and OME-TIFF files, resolution tags), and
descriptions written here where tifffile cannot make them (a UTF-8 "µm"
in an ImageJ description, OME-XML with one Channel element per sample).
Oracles: the file's own tags and metadata read back by tifffile
(TiffFile.pages[0].tags, .imagej_metadata, the OME-XML parsed by Python's
xml.etree), converted to millimetres with the table of units below, which
shares nothing with the library.

Run by CTest like test_tiff_interop.py (same environment variables), one
test class per CTest test.
"""
import math
import sys
import unittest
import xml.etree.ElementTree as ET

import numpy as np
import tifffile

import test_tiff_interop as base
from test_tiff_color import tiff_bytes
from test_tiff_interop import Case

setUpModule = base.setUpModule

# Millimetres per unit, as ImageJ names units and as OME's UnitsLength
# writes them.
MM = {"micron": 1e-3, "um": 1e-3, "µm": 1e-3, "\\u00B5m": 1e-3, "nm": 1e-6, "mm": 1.0,
      "cm": 10.0, "inch": 25.4, "m": 1000.0, "Å": 1e-7, "pm": 1e-9}
# Millimetres per TIFF ResolutionUnit (2 inch, 3 centimetre; tifffile's 4
# millimetre and 5 micrometre); 1 (none) has no length.
RESUNIT_MM = {2: 25.4, 3: 10.0, 4: 1.0, 5: 1e-3}


def tags_of(path):
    """(XResolution, YResolution) as fractions, ResolutionUnit (None when
    the tag is missing), ImageJ metadata, description: tifffile's reading."""
    with tifffile.TiffFile(path) as t:
        tags = t.pages[0].tags
        x = tags["XResolution"].value if "XResolution" in tags else None
        y = tags["YResolution"].value if "YResolution" in tags else None
        unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else None
        return x, y, unit, t.imagej_metadata, t.pages[0].description


class MetaCase(Case):
    def assertSpacing(self, info, want, what, rel=1e-6):
        """Spacing (C order, millimetres) within @rel: libtiff hands the
        resolution tags over as single-precision floats."""
        self.assertEqual(len(info["spacing"]), len(want), what)
        for got, w in zip(info["spacing"], want):
            self.assertTrue(math.isclose(got, w, rel_tol=rel), f"{what}: {info['spacing']} != {want}")

    def declined(self, path):
        r = self.run_tool("info", path, expect_ok=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("valid file in an unsupported layout", r.stderr)
        return r.stderr


class ImageJ(MetaCase):
    """ImageJ descriptions: X/Y resolution in pixels per unit= and
    spacing= in unit=, whatever ResolutionUnit says (tifffile's rule);
    hyperstacks declined, stacks of slices read as volumes."""

    def expected(self, path, ndim):
        x, y, _, ij, _ = tags_of(path)
        mm = MM[ij["unit"]]
        sp = [mm * y[1] / y[0], mm * x[1] / x[0]]
        return ([mm * ij.get("spacing", 1.0)] if ndim == 3 else []) + sp

    def test_units(self):
        a = base.random_array(np.uint16, (10, 12), self.rng)
        for unit in ("micron", "um", "nm", "mm", "cm", "inch"):
            for resunit in (None, "CENTIMETER", "INCH"):
                p = self.path("ij")
                tifffile.imwrite(p, a, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                                 resolutionunit=resunit,
                                 metadata={"unit": unit, "spacing": 2.0})
                what = f"unit={unit} ResolutionUnit {resunit}"
                _, _, ru, ij, _ = tags_of(p)
                self.assertEqual(ru, {None: 1, "CENTIMETER": 3, "INCH": 2}[resunit], what)
                self.assertEqual(ij["unit"], unit, what)
                info = self.info(p)
                self.assertEqual((info["ndim"], info["spacing_stated"], info["spacing_source"],
                                  info["description_format"]), (2, 1, "ImageJ", "ImageJ"), what)
                self.assertSpacing(info, self.expected(p, 2), what)
                self.assertSameArray(self.read(p)[0], a, what)

    def test_micro_sign(self):
        # tifffile writes ImageJ descriptions in ASCII; ImageJ's "µm" comes
        # as UTF-8 or escaped as Java properties escape it.
        a = base.random_array(np.uint8, (6, 7), self.rng)
        for unit in ("µm".encode(), b"\\u00B5m"):
            p = self.path("mu")
            tifffile.imwrite(p, a, resolution=(4.0, 2.0), metadata=None,
                             description=b"ImageJ=1.53t\nimages=1\nunit=" + unit +
                             b"\nspacing=2.0\n")
            info = self.info(p)
            self.assertEqual((info["spacing_stated"], info["spacing_source"]), (1, "ImageJ"), unit)
            self.assertSpacing(info, self.expected(p, 2), unit)

    def test_volume(self):
        a = base.random_array(np.uint16, (3, 10, 12), self.rng)
        p = self.path("ijz")
        tifffile.imwrite(p, a, imagej=True, resolution=(1 / 0.2, 1 / 0.3),
                         metadata={"spacing": 2.5, "unit": "um", "axes": "ZYX"})
        _, _, _, ij, _ = tags_of(p)
        self.assertEqual((ij["slices"], ij.get("channels", 1), ij.get("frames", 1)), (3, 1, 1))
        info = self.info(p)
        self.assertEqual((info["ndim"], info["shape"]), (3, [3, 10, 12]))
        self.assertEqual((info["meta_channels"], info["meta_z"], info["meta_t"]), (1, 3, 1))
        self.assertSpacing(info, self.expected(p, 3), "ZYX")
        self.assertSameArray(self.read(p)[0], a, "ZYX")

    def test_no_unit(self):
        # unit=pixel, or no unit at all with ResolutionUnit none: ImageJ's
        # uncalibrated image, stated as nothing.
        a = base.random_array(np.uint8, (5, 6), self.rng)
        for meta in ({"unit": "pixel"}, {}):
            p = self.path("px")
            tifffile.imwrite(p, a, imagej=True, metadata=meta)
            x, y, ru, ij, _ = tags_of(p)
            self.assertEqual((x, y, ru), ((1, 1), (1, 1), 1), meta)
            info = self.info(p)
            self.assertEqual((info["spacing_stated"], info["spacing_source"], info["spacing"]),
                             (0, "none", [1, 1]), meta)

    def test_hyperstacks_declined(self):
        for axes, shape, says in [
                ("CYX", (3, 8, 9), "ImageJ hyperstack of 3 channels: channels stored as pages"),
                ("TZCYX", (2, 3, 2, 8, 9),
                 "2 channels x 3 slices x 2 frames: channels and time points stored as pages"),
                ("TZYX", (2, 3, 8, 9), "3 slices x 2 frames: time points stored as pages"),
                ("ZCYX", (5, 3, 8, 9), "ImageJ hyperstack of 3 channels x 5 slices: channels")]:
            p = self.path("hyper")
            tifffile.imwrite(p, np.zeros(shape, np.uint8), imagej=True, metadata={"axes": axes})
            _, _, _, ij, _ = tags_of(p)
            with tifffile.TiffFile(p) as t:
                self.assertEqual(len(t.pages), int(np.prod(shape[:-2])), axes)
            self.assertGreater(max(ij.get("channels", 1), ij.get("frames", 1)), 1, axes)
            self.assertIn(says, self.declined(p), axes)

    def test_rgb(self):
        # RGB samples are channels of a pixel, not a hyperstack.
        a = base.random_array(np.uint8, (6, 7, 3), self.rng)
        p = self.path("rgb")
        tifffile.imwrite(p, a, imagej=True, photometric="rgb")
        info = self.info(p)
        self.assertEqual((info["channels"], info["ndim"], info["description_format"]),
                         (3, 2, "ImageJ"))
        self.assertSameArray(self.read(p)[0], a, "ImageJ RGB")


def ome_pixels(path):
    """The first Image's Pixels element of the file's OME-XML (etree)."""
    _, _, _, _, desc = tags_of(path)
    root = ET.fromstring(desc.encode())
    return next(e for e in root.iter() if e.tag.endswith("}Pixels") or e.tag == "Pixels")


def ome_mm(px, axis):
    """Millimetres of PhysicalSize@axis: its unit, or the schema's µm."""
    return float(px.get(f"PhysicalSize{axis}")) * MM[px.get(f"PhysicalSize{axis}Unit", "µm")]


class Ome(MetaCase):
    """OME-TIFF: PhysicalSizeX/Y/Z in their units, SizeC/Z/T, channels as
    samples read, as pages declined; channel names."""

    def test_physical_sizes(self):
        a = base.random_array(np.uint16, (9, 11), self.rng)
        for ux, uy in [("µm", "µm"), ("nm", "µm"), ("mm", "nm"), (None, None), ("Å", "cm")]:
            meta = {"axes": "YX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 250.0}
            if ux:
                meta.update(PhysicalSizeXUnit=ux, PhysicalSizeYUnit=uy)
            p = self.path("ome")
            tifffile.imwrite(p, a, ome=True, metadata=meta)
            px = ome_pixels(p)
            self.assertEqual(px.get("PhysicalSizeXUnit"), ux)
            info = self.info(p)
            what = f"{ux} {uy}"
            self.assertEqual((info["spacing_stated"], info["spacing_source"],
                              info["description_format"]), (1, "OME-XML", "OME-XML"), what)
            self.assertSpacing(info, [ome_mm(px, "Y"), ome_mm(px, "X")], what, rel=1e-12)
            self.assertSameArray(self.read(p)[0], a, what)

    def test_volume(self):
        a = base.random_array(np.uint8, (4, 6, 7), self.rng)
        p = self.path("omez")
        tifffile.imwrite(p, a, ome=True, metadata={
            "axes": "ZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 1.5,
            "PhysicalSizeZUnit": "µm"})
        px = ome_pixels(p)
        info = self.info(p)
        self.assertEqual((info["ndim"], info["meta_channels"], info["meta_z"], info["meta_t"]),
                         (3, int(px.get("SizeC")), int(px.get("SizeZ")), int(px.get("SizeT"))))
        self.assertSpacing(info, [ome_mm(px, a) for a in "ZYX"], "ZYX", rel=1e-12)
        self.assertSameArray(self.read(p)[0], a, "ZYX")

    def test_channels_as_samples(self):
        # SizeC 3 of 3 samples per pixel, interleaved or planar: one page.
        a = base.random_array(np.uint16, (6, 7, 3), self.rng)
        for data, kw in [(a, dict(photometric="rgb", metadata={"axes": "YXS"})),
                         (np.moveaxis(a, -1, 0), dict(photometric="minisblack",
                                                      planarconfig="separate",
                                                      metadata={"axes": "CYX"}))]:
            p = self.path("omec")
            tifffile.imwrite(p, data, ome=True, **kw)
            px = ome_pixels(p)
            with tifffile.TiffFile(p) as t:
                spp = t.pages[0].samplesperpixel
            self.assertEqual((int(px.get("SizeC")), spp), (3, 3), kw)
            info = self.info(p)
            self.assertEqual((info["channels"], info["meta_channels"], info["ndim"]), (3, 3, 2))
            # tifffile writes one Channel element of 3 samples: no names.
            self.assertEqual(info["channel_names"], [None, None, None])
            self.assertSameArray(self.read(p)[0], a, str(kw))

    def test_channel_names(self):
        a = base.random_array(np.uint8, (5, 6, 3), self.rng)
        names = ["DAPI", "GFP \"green\"", "µ-red"]
        chans = "".join(f'<Channel ID="Channel:0:{i}" SamplesPerPixel="1" Name="{n}"/>'
                        for i, n in enumerate(["DAPI", "GFP &quot;green&quot;", "µ-red"]))
        xml = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
               '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" '
               'SizeX="6" SizeY="5" SizeC="3" SizeZ="1" SizeT="1" Interleaved="true">'
               f'{chans}<TiffData/></Pixels></Image></OME>')
        p = self.path("names")
        tifffile.imwrite(p, a, photometric="minisblack", planarconfig="contig", metadata=None,
                         description=xml.encode())
        want = [c.get("Name") for c in ome_pixels(p) if c.tag.endswith("Channel")]
        self.assertEqual(want, names)
        self.assertEqual(self.info(p)["channel_names"], names)

    def test_hyperstacks_declined(self):
        for axes, shape, says in [
                ("CZYX", (3, 2, 6, 7), "OME-TIFF hyperstack of 3 channels x 2 slices: channels "
                                       "stored as pages are not read yet"),
                ("CYX", (2, 6, 7), "OME-TIFF hyperstack of 2 channels: channels stored as pages"),
                ("TYX", (2, 6, 7), "OME-TIFF hyperstack of 2 frames: time points stored as pages")]:
            p = self.path("omeh")
            tifffile.imwrite(p, np.zeros(shape, np.uint16), ome=True, metadata={"axes": axes})
            px = ome_pixels(p)
            with tifffile.TiffFile(p) as t:
                self.assertEqual(t.pages[0].samplesperpixel, 1, axes)
            self.assertTrue(int(px.get("SizeC")) > 1 or int(px.get("SizeT")) > 1, axes)
            self.assertIn(says, self.declined(p), axes)

    def test_no_physical_size(self):
        p = self.path("omen")
        tifffile.imwrite(p, np.zeros((5, 6), np.uint8), ome=True, metadata={"axes": "YX"})
        self.assertIsNone(ome_pixels(p).get("PhysicalSizeX"))
        info = self.info(p)
        self.assertEqual((info["spacing_stated"], info["spacing_source"], info["spacing"],
                          info["description_format"]), (0, "none", [1, 1], "OME-XML"))


class Plain(MetaCase):
    """Resolution tags alone and no metadata at all: stated when the tags
    have a unit of length, not otherwise."""

    def test_without_tags(self):
        a = self.rng.integers(0, 256, (4, 5), dtype=np.uint8)
        p = self.path("bare")
        with open(p, "wb") as f:
            f.write(tiff_bytes(5, 4, 8, 1, a.tobytes()))
        x, y, ru, _, desc = tags_of(p)
        self.assertEqual((x, y, ru, desc), (None, None, None, ""))
        info = self.info(p)
        self.assertEqual((info["spacing_stated"], info["spacing_source"], info["spacing"],
                          info["description_format"]), (0, "none", [1, 1], "none"))

    def test_resolution_units(self):
        a = base.random_array(np.uint16, (6, 8), self.rng)
        for unit in ("CENTIMETER", "INCH", "MILLIMETER", "MICROMETER", "NONE"):
            p = self.path("res")
            tifffile.imwrite(p, a, resolution=(4.0, 2.5), resolutionunit=unit)
            x, y, ru, _, _ = tags_of(p)
            info = self.info(p)
            per = RESUNIT_MM.get(ru)
            want = [(per or 1.0) * y[1] / y[0], (per or 1.0) * x[1] / x[0]]
            self.assertSpacing(info, want, unit)
            self.assertEqual((info["spacing_stated"], info["spacing_source"]),
                             (1 if per else 0, "resolution tags"), unit)
        # tifffile's default: 1 pixel per nothing.
        p = self.path("plain")
        tifffile.imwrite(p, a)
        self.assertEqual(tags_of(p)[:3], ((1, 1), (1, 1), 1))
        info = self.info(p)
        self.assertEqual((info["spacing_stated"], info["spacing_source"]), (0, "none"))

    def test_blockwise(self):
        a = base.random_array(np.float32, (2, 5, 6), self.rng)
        p = self.path("bw")
        self.write(a, p, spacing=(3.0, 0.5, 0.25))
        info = self.info(p)
        self.assertEqual((info["spacing_stated"], info["spacing_source"], info["spacing"]),
                         (1, "Blockwise", [3.0, 0.5, 0.25]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
