# Shared helpers for the CLI tests (tests/cli/*.sh source this file; it is not a test itself).
# Each test runs in its own temporary folder, removed on exit, and asserts exit codes, stdout and
# the one-line stderr contract of fwchain. FWC_BIN is the build folder (set by ctest).
set -uo pipefail

FWC="$(cd "${FWC_BIN:?FWC_BIN must name the build folder}" && pwd)/fwchain"
VEC="$(cd "${FWC_VECTORS:-${FWC_SRC:-.}/tests/vectors}" && pwd)"
T="$(mktemp -d "${TMPDIR:-/tmp}/fwc-cli-test.XXXXXX")"
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
export FWCHAIN_PASSPHRASE="test passphrase"
# Cheap Argon2id parameters so the suite stays fast; the cost is the library's to validate.
KDF=(--kdf-ops 1 --kdf-mem 65536)

CHECKS=0
FAILS=0
fail() {
	FAILS=$((FAILS + 1))
	echo "FAIL (line ${BASH_LINENO[${#BASH_LINENO[@]} - 2]}): $*" >&2
}
ok() { CHECKS=$((CHECKS + 1)); }

# run CMD...: runs it with stdout in $T/out, stderr in $T/err, exit code in RC.
run() {
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT="$(cat "$T/out")"
	ERR="$(cat "$T/err")"
}

# expect_rc WANT CMD...: exit code is WANT.
expect_rc() {
	local want=$1
	shift
	run "$@"
	ok
	if [ "$RC" != "$want" ]; then
		fail "'$*' exited $RC, want $want; stderr: $ERR"
	fi
}

# expect_err WANT_RC REGEX CMD...: exits WANT_RC with exactly one stderr line of the form
# "fwchain: <command>: ..." that matches REGEX (extended regex), and a crash is never an answer.
expect_err() {
	local want=$1 re=$2 lines
	shift 2
	run "$@"
	ok
	lines=$(wc -l <"$T/err")
	if [ "$RC" != "$want" ]; then
		fail "'$*' exited $RC, want $want; stderr: $ERR"
	elif [ "$lines" != 1 ]; then
		fail "'$*' wrote $lines stderr lines, want 1: $ERR"
	elif ! grep -Eq "^fwchain: [a-z -]+: " "$T/err"; then
		fail "'$*' stderr is not 'fwchain: CMD: ...': $ERR"
	elif ! grep -Eq -- "$re" "$T/err"; then
		fail "'$*' stderr does not match /$re/: $ERR"
	fi
}

# expect_eq GOT WANT WHAT
expect_eq() {
	ok
	if [ "$1" != "$2" ]; then
		fail "$3: got '$1', want '$2'"
	fi
}

# expect_absent FILE...: none of the files (nor a leftover temporary next to them) exists.
expect_absent() {
	local f
	for f in "$@"; do
		ok
		if [ -e "$f" ] || compgen -G "$f.tmp-*" >/dev/null; then
			fail "$f (or a temporary of it) exists"
		fi
	done
}

# field NAME: the value of "NAME: value" in $OUT (human output of key show / keygen).
field() {
	sed -n "s/^$1: *//p" <<<"$OUT"
}

done_testing() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" = 0 ]
}
