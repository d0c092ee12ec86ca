#!/bin/sh
# The C unit tests of the pure parts (t/unit.c), built by make as $UNIT.
exec "${UNIT:-$(dirname "$0")/../build/unit}"
