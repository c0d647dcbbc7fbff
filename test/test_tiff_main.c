/*
 * The TIFF layer's tests (libblockwise_tiff), one executable:
 * `blockwise_tiff_tests NAME` runs one (CTest registers each as tiff.NAME),
 * no argument runs them all.  The tests live in test_tiff_write.c,
 * test_tiff_read.c, test_tiff_band.c, test_tiff_crafted.c and
 * test_tiff_meta.c; files go to a fresh folder
 * under $BW_TEST_TMPDIR (default /tmp), removed at the end of each test.
 */
#include "tiff_test_util.h"

static const bw_test tests[] = {
    {"roundtrip", test_roundtrip},
    {"write_channels", test_write_channels},
    {"write_regions", test_write_regions},
    {"subregions", test_subregions},
    {"partial_counters", test_partial_counters},
    {"page_jumps", test_page_jumps},
    {"byte_orders", test_crafted_byte_orders},
    {"fill_order", test_crafted_fill_order},
    {"reduced_pages", test_crafted_reduced_pages},
    {"spacing_tags", test_crafted_spacing},
    {"bad_files", test_bad_files},
    {"truncated", test_truncated},
    {"mutations", test_mutations},
    {"spacing_roundtrip", test_spacing_roundtrip},
    {"bigtiff", test_bigtiff},
    {"writer_params", test_writer_params},
    {"writer_sequence", test_writer_sequence},
    {"writer_io_failure", test_writer_io_failure},
    {"reader_errors", test_reader_errors},
    {"tags", test_tags},
    {"single_page_volume", test_single_page_volume},
    {"unsupported", test_unsupported},
    {"decode_cache", test_decode_cache},
    {"band_unit", test_band_unit},
    {"compression_names", test_compression_names},
    {"ome_parse", test_ome_parse},
    {"ome_malformed", test_ome_malformed},
    {"ome_hostile", test_ome_hostile},
    {"units", test_units},
    {"meta_hyperstacks", test_meta_hyperstacks},
    {"meta_channel_names", test_meta_channel_names},
};

BW_TEST_MAIN(tests)
