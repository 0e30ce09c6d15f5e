#!/usr/bin/env bash
# Checks that the agent core stays portable.
#   core_check.sh symbols LIB   LIB (the freestanding build of the core) may leave undefined only
#                               the port's fwc_port_* functions and <string.h>'s mem* functions
#                               (memcpy, memset, memmove, memcmp, memchr): no malloc, no printf,
#                               no crypto library, no libc beyond those.
#   core_check.sh includes DIR  the core's files (DIR/core, DIR/include/fwagent, and the library
#                               files listed in DIR/core/sources.txt) include no system header
#                               but <stdint.h> <stddef.h> <stdbool.h> <string.h>, and no project
#                               header but fwagent/*, fwchain/* and core/*.h.
set -euo pipefail
mode=${1:?mode}
shift
status=0
case $mode in
symbols)
  lib=${1:?library}
  defined=$(nm --defined-only -g "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
  undefined=$(nm -u "$lib" | awk 'NF >= 2 && $(NF-1) == "U" { print $NF }' | sort -u)
  [ -n "$defined" ] || { echo "core_check: $lib defines nothing"; exit 1; }
  for sym in $undefined; do
    grep -qxF "$sym" <<<"$defined" && continue
    case $sym in
      fwc_port_*|memcpy|memset|memmove|memcmp|memchr) ;;
      *) echo "core_check: the core needs '$sym' (only the port and memcpy/memset/memmove/memcmp/memchr are allowed)"; status=1 ;;
    esac
  done
  echo "core_check: $(wc -w <<<"$undefined") undefined symbols checked"
  ;;
includes)
  dir=${1:?agent dir}
  libs=$(grep -E '^\.\./lib/' "$dir/core/sources.txt" | sed "s|^|$dir/|")
  files=$(ls "$dir"/core/*.c "$dir"/core/*.h "$dir"/include/fwagent/*.h $libs)
  # and every library header those files reach
  inc_dir="$dir/../include"
  while :; do
    more=$(grep -hoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"fwchain/[^"]+"' $files |
           sed -E 's/.*"(fwchain\/[^"]+)"/\1/' | sort -u | sed "s|^|$inc_dir/|")
    all=$(printf '%s\n' $files $more | sort -u)
    [ "$(wc -w <<<"$all")" = "$(wc -w <<<"$files")" ] && break
    files=$all
  done
  for f in $files; do
    while IFS= read -r line; do
      inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*//' <<<"$line")
      case $inc in
        '<stdint.h>'|'<stddef.h>'|'<stdbool.h>'|'<string.h>') ;;
        '"fwagent/'*'.h"'|'"fwchain/'*'.h"') ;;
        '"'*'.h"') [ -f "$dir/core/${inc//\"/}" ] || { echo "core_check: $f: $line"; status=1; } ;;
        *) echo "core_check: $f includes $inc (not allowed in the portable core)"; status=1 ;;
      esac
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f" || true)
  done
  echo "core_check: $(wc -w <<<"$files") core files checked"
  ;;
*) echo "usage: core_check.sh symbols LIB | includes DIR"; exit 2 ;;
esac
exit $status
