#!/usr/bin/python3
"""Seed files with the metadata of other writers, for the TIFF reader's
fuzzer: ImageJ descriptions (a volume in micrometres, a hyperstack, "µm"
in UTF-8) and OME-XML (physical sizes in several units, channels as
samples with names, a hyperstack), small enough to mutate (tifffile, and
descriptions written here).

    meta_seeds.py OUT_DIR
"""
import os
import sys

import numpy as np
import tifffile

out = sys.argv[1]
rng = np.random.default_rng(13)


def path(name):
    return os.path.join(out, name)


def u8(*shape):
    return rng.integers(0, 256, shape, dtype=np.uint8)


tifffile.imwrite(path("imagej-z.tif"), u8(2, 5, 6), imagej=True, resolution=(4.0, 2.0),
                 metadata={"unit": "um", "spacing": 2.5, "axes": "ZYX"})
tifffile.imwrite(path("imagej-hyper.tif"), u8(2, 2, 4, 5), imagej=True,
                 metadata={"axes": "ZCYX", "unit": "nm"})
tifffile.imwrite(path("imagej-mu.tif"), u8(4, 5), resolution=(3.0, 3.0), metadata=None,
                 description="ImageJ=1.53t\nimages=1\nunit=µm\nspacing=2.0\n".encode())
tifffile.imwrite(path("ome-z.tif"), rng.integers(0, 65536, (2, 4, 5), dtype=np.uint16), ome=True,
                 metadata={"axes": "ZYX", "PhysicalSizeX": 0.5, "PhysicalSizeXUnit": "µm",
                           "PhysicalSizeY": 250.0, "PhysicalSizeYUnit": "nm",
                           "PhysicalSizeZ": 2.0})
tifffile.imwrite(path("ome-hyper.tif"), u8(3, 1, 4, 5), ome=True, metadata={"axes": "CZYX"})
names = "".join(f'<ome:Channel SamplesPerPixel="1" Name="{n}"/>' for n in ("DAPI", "GFP", "Cy5"))
tifffile.imwrite(path("ome-names.tif"), u8(4, 5, 3), photometric="minisblack",
                 planarconfig="contig", metadata=None, description=(
                     '<?xml version="1.0" encoding="UTF-8"?><ome:OME xmlns:ome="http://www.'
                     'openmicroscopy.org/Schemas/OME/2016-06"><ome:Image><ome:Pixels '
                     'DimensionOrder="XYCZT" Type="uint8" SizeX="5" SizeY="4" SizeC="3" '
                     'SizeZ="1" SizeT="1" PhysicalSizeX="1" PhysicalSizeXUnit="mm">'
                     f'{names}</ome:Pixels></ome:Image></ome:OME>').encode())
