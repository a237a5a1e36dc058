#!/bin/sh
# Cross-compile the insole protocol library for a Cortex-M4 (e.g. nRF52840)
# and print its code size. Needs Debian's gcc-arm-none-eabi package.
#
#   firmware_protocol/c/build-cortex-m4.sh [output-dir]
#
# Builds the object file only (no startup code, no linking): what a builder's
# firmware would add to its image. -ffreestanding: the library needs nothing
# from libc but memset/memcpy, which every embedded toolchain provides.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${TMPDIR:-/tmp}/insole-protocol-cortex-m4}
cc=${ARM_CC:-arm-none-eabi-gcc}
size=${ARM_SIZE:-arm-none-eabi-size}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "build-cortex-m4.sh: $cc not found (Debian: apt-get install gcc-arm-none-eabi)" >&2
    exit 127
fi
mkdir -p "$out"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic \
    -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffreestanding \
    -ffunction-sections -fdata-sections \
    -c "$here/insole_protocol.c" -o "$out/insole_protocol.o"
"$size" "$out/insole_protocol.o"
