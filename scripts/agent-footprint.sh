#!/usr/bin/env bash
# Measures the agent core's footprint: RAM of the agent context, worst-case stack, code size.
#
# The core is compiled from the plain file list agent/core/sources.txt (as an MCU SDK would)
# twice, with -Os:
#   host   gcc (the machine's compiler), -fstack-usage -fcallgraph-info=su
#   cm4    clang --target=thumbv7em-none-eabi -mcpu=cortex-m4 (an MCU-like 32-bit target; a
#          four-line <string.h> shim declares memcpy/memset/memmove/memcmp, since there is no
#          ARM C library here), -fstack-usage, call graph from the objects' relocations
# and prints, for each: sizeof the agent structures (read from the object files, so it is the
# target's size, not the host's), the largest per-function frames (.su files: per function,
# not per call chain), the worst call chain from the public entry points with its summed
# stack, and the code size (size -t). Port functions are leaves of the chains here: their own
# stack comes on top and is the platform's to measure.
#
# Usage: scripts/agent-footprint.sh [OUTDIR]   (default build/footprint)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/footprint}
rm -rf "$out"
mkdir -p "$out/host" "$out/cm4" "$out/shim"

mapfile -t srcs < <(grep -v '^#' agent/core/sources.txt | grep -v '^[[:space:]]*$')
common=(-std=c99 -ffreestanding -fno-stack-protector -Os -Iagent/include -Iinclude
        -DFWC_NOTE_MAX_SIGS=16 -DFWC_NOTE_COSIGNED_TEXT_MAX=1024)

cat >"$out/shim/string.h" <<'EOF'
#include <stddef.h>
void *memcpy(void *, const void *, size_t);
void *memset(void *, int, size_t);
void *memmove(void *, const void *, size_t);
int memcmp(const void *, const void *, size_t);
void *memchr(const void *, int, size_t);
EOF

# The sizes of the structures, as symbols whose size nm can read on any target.
cat >"$out/probe.c" <<'EOF'
#include "fwagent/agent.h"
const char probe_agent[sizeof(struct fwc_agent)] = {1};
const char probe_offer[sizeof(struct fwc_agent_offer)] = {1};
const char probe_store[sizeof(struct fwc_agent_store)] = {1};
const char probe_record[sizeof(struct fwc_agent_record)] = {1};
const char probe_block[FWC_AGENT_BLOCK_SIZE] = {1};
const char probe_verify_work[sizeof(struct fwc_agent_verify_work)] = {1};
const char probe_bundle_buf[FWC_AGENT_BUNDLE_MAX] = {1};
EOF

have_clang=1
command -v clang >/dev/null && command -v llvm-objdump >/dev/null && command -v llvm-size >/dev/null \
  || have_clang=0

for src in "${srcs[@]}"; do
  name=$(basename "$src" .c)
  gcc "${common[@]}" -fstack-usage -fcallgraph-info=su -c "agent/$src" -o "$out/host/$name.o"
  if [ $have_clang = 1 ]; then
    clang --target=thumbv7em-none-eabi -mcpu=cortex-m4 -mthumb "${common[@]}" -I"$out/shim" \
      -ffunction-sections -fstack-usage -c "agent/$src" -o "$out/cm4/$name.o"
  fi
done
gcc "${common[@]}" -c "$out/probe.c" -o "$out/host/probe.o.x"
[ $have_clang = 1 ] && clang --target=thumbv7em-none-eabi -mcpu=cortex-m4 -mthumb "${common[@]}" \
  -I"$out/shim" -c "$out/probe.c" -o "$out/cm4/probe.o.x"

report() { # $1 = host|cm4
  local dir=$out/$1 nm=nm size=size
  [ "$1" = cm4 ] && nm=llvm-nm && size=llvm-size
  echo "== $1 =="
  echo "-- structure sizes (bytes)"
  $nm -S --defined-only "$dir/probe.o.x" | while read -r _ sz _ sym; do
    printf "  %-14s %6d\n" "${sym#probe_}" "$((16#$sz))"
  done
  echo "-- largest stack frames (per function, from .su; library code the agent never calls included)"
  cat "$dir"/*.su | awk -F'\t' '{ n = split($1, p, ":"); printf "  %6d  %-28s %s\n", $2, p[n], $3 }' \
    | sort -rn | sed -n 1,8p
  echo "-- worst call chain (summed frames; port functions and memcpy&co counted as 0)"
  python3 - "$1" "$dir" <<'EOF'
import glob, os, re, subprocess, sys
kind, d = sys.argv[1], sys.argv[2]
# Nodes are functions: a global one by its name, a file-local one as "object:name" (several
# files of the core have static functions of the same name, and gcc's clones keep suffixes
# such as .part.0 that are functions of their own).
stack, edges, local = {}, {}, {}
def key(obj, name):
    name = re.sub(r'\.\d+$', '', name)  # .su says "f.constprop", the call graph "f.constprop.0"
    return obj + ':' + name if name in local.get(obj, ()) else name
objs = [os.path.basename(o)[:-2] for o in glob.glob(d + '/*.o')]
for obj in objs:
    if kind == 'host':
        ci = open(d + '/' + obj + '.ci').read()
        local[obj] = {re.sub(r'\.\d+$', '', t.split(':')[-1])
                      for t in re.findall(r'node: \{ title: "([^"]+:[^"]+)"', ci)}
    else:
        nm = subprocess.run(['llvm-nm', d + '/' + obj + '.o'], capture_output=True, text=True).stdout
        local[obj] = {re.sub(r'\.\d+$', '', l.split()[-1])
                      for l in nm.splitlines() if re.match(r'^\S+ t ', l)}
for obj in objs:
    for line in open(d + '/' + obj + '.su'):
        loc, n, _ = line.rstrip('\n').split('\t')
        stack[key(obj, loc.split(':')[-1])] = int(n)
    if kind == 'host':
        ci = open(d + '/' + obj + '.ci').read()
        for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', ci):
            a, b = (key(obj, x.split(':')[-1]) for x in m.groups())
            edges.setdefault(a, set()).add(b)
    else:
        cur = None
        dis = subprocess.run(['llvm-objdump', '-dr', d + '/' + obj + '.o'], capture_output=True,
                             text=True).stdout
        for line in dis.splitlines():
            m = re.match(r'^[0-9a-f]+ <([^>$][^>]*)>:$', line)  # not the $t/$d mapping labels
            if m:
                cur = key(obj, m.group(1))
                continue
            m = re.search(r'R_ARM_THM_(?:CALL|JUMP24)\s+(\S+)', line)
            if m and cur:
                edges.setdefault(cur, set()).add(key(obj, m.group(1)))
best = {}
def worst(f, path):
    if f in path:
        raise SystemExit('  recursion: ' + ' -> '.join(path + [f]))
    if f in best:
        return best[f]
    own = stack.get(f, 0)
    tot, chain = own, [f]
    for g in edges.get(f, ()):
        if g == f:
            continue  # a tail call into itself's clone label, not recursion
        t, c = worst(g, path + [f])
        if own + t > tot:
            tot, chain = own + t, [f] + c
    best[f] = (tot, chain)
    return best[f]
roots = ['fwc_agent_boot_select', 'fwc_agent_init', 'fwc_agent_step', 'fwc_agent_store_load',
         'fwc_agent_store_commit', 'fwc_agent_record_encode', 'fwc_agent_record_decode',
         'fwc_agent_verify_bundle', 'fwc_agent_verify_checkpoint']
overall = (0, [])
for r in roots:
    t, c = worst(r, [])
    print('  %-27s %5d bytes' % (r, t))
    overall = max(overall, (t, c))
print('  worst: %d bytes: %s' % (overall[0], ' -> '.join('%s(%d)' % (f.split(':')[-1], stack.get(f, 0)) for f in overall[1])))
seen, todo = set(), list(roots)
while todo:
    f = todo.pop()
    if f not in seen:
        seen.add(f)
        todo.extend(edges.get(f, ()))
print('  leaves outside the core (reached from the entry points):',
      ' '.join(sorted(f for f in seen if f not in stack)))
print('-- largest frames reached from the entry points')
for f in sorted((f for f in seen if f in stack), key=lambda f: -stack[f])[:6]:
    print('  %6d  %s' % (stack[f], f.split(':')[-1]))
EOF
  echo "-- code size"
  (cd "$dir" && $size -t *.o) | sed 's/^/  /'
}

report host
if [ $have_clang = 1 ]; then
  report cm4
else
  echo "== cm4: skipped (clang, llvm-objdump or llvm-size missing) =="
fi
