#!/bin/sh
# The C unit tests of the pure parts (t/unit.c), built by make as $UNIT.
CFG_EXAMPLE=$(dirname "$0")/../cfg.example.json exec "${UNIT:-$(dirname "$0")/../build/unit}"
