/* fwchain CLI — shared helpers: option parsing, one-line errors, passphrases, bounded file
 * reads, atomic writes, JSON and terminal-safe text output. Internal to the tool (cli_ prefix),
 * never part of libfwchain. See cli/util.c for the design. */
#ifndef FWCHAIN_CLI_UTIL_H
#define FWCHAIN_CLI_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "fwchain/err.h"

/* Exit codes, the same for every command (docs/cli.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* a verification ran and said no (verify-sig, manifest verify) */
#define CLI_EXIT_ERROR 2 /* usage error, bad or unreadable input, I/O or internal failure */

/* Bounds on what the tool reads into memory. */
#define CLI_PASS_MAX 1024                        /* passphrase bytes */
#define CLI_MSG_MAX ((size_t)64 * 1024 * 1024)   /* sign/verify-sig --file */
#define CLI_SMALL_FILE_MAX ((size_t)1024 * 1024) /* manifests, key files, metadata */

/* One command-line option. Options are long only ("--name"); a value is either the next
 * argument or follows '=' ("--name=value"). */
struct cli_opt {
	const char *name; /* without the leading "--" */
	int id;           /* returned by cli_next(); must be > 0 */
	int has_value;    /* 1 when the option takes a value */
};

/* Iteration state over one command's arguments. */
struct cli_parser {
	const char *cmd; /* command name used in error messages, e.g. "manifest sign" */
	int argc;
	char **argv;
	int i;        /* next argument to look at */
	int only_pos; /* set after "--": everything that follows is positional */
};

#define CLI_NEXT_END 0    /* no arguments left */
#define CLI_NEXT_POS (-1) /* *val is a positional argument */
#define CLI_NEXT_BAD (-2) /* unknown option or missing value: message already printed */

/* Start parsing argv[first..argc). */
void cli_parser_init(struct cli_parser *p, const char *cmd, int argc, char **argv, int first);

/* Next option (returns its id, *val its value or NULL), positional (CLI_NEXT_POS), end
 * (CLI_NEXT_END) or error (CLI_NEXT_BAD, after printing one line on stderr). "-" alone is a
 * positional argument (standard input where a command accepts it). */
int cli_next(struct cli_parser *p, const struct cli_opt *opts, const char **val);

/* Print "fwchain: CMD: <formatted message>" as one line on stderr (control characters in the
 * message are replaced) and return CLI_EXIT_ERROR. cmd NULL (the tool itself, before a command
 * is known) prints "fwchain: <message>". */
int cli_err(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Same, for a library error: "fwchain: CMD: <context>: <fwc_strerror(rc)>[: <ei->msg>]".
 * ei may be NULL or hold an empty message. Returns CLI_EXIT_ERROR. */
int cli_err_rc(const char *cmd, int rc, const struct fwc_errinfo *ei, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* A usage error: one line that also points at CMD --help. Returns CLI_EXIT_ERROR. */
int cli_usage_err(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Read a whole file ("-" = standard input) of at most cap bytes into a new heap buffer that the
 * caller frees (one extra NUL byte is appended but not counted). On error prints one line and
 * returns CLI_EXIT_ERROR; *buf and *len are then untouched. */
int cli_file_read(const char *cmd, const char *path, size_t cap, uint8_t **buf, size_t *len);

/* Write data to path atomically: a temporary file in the same folder, fsync, then rename (when
 * replace is 1) or a no-clobber link (replace 0: an existing path is an error). The temporary
 * file is removed on every failure and on SIGINT/SIGTERM/SIGHUP. Prints one line and returns
 * CLI_EXIT_ERROR on failure, 0 on success. */
int cli_file_write_atomic(const char *cmd, const char *path, const void *data, size_t len,
                          mode_t mode, int replace);

/* Where a passphrase comes from, in this order: --passphrase-file, FWCHAIN_PASSPHRASE, an
 * interactive prompt on /dev/tty with echo off (asked twice when confirm is 1). file may be NULL.
 * Writes the passphrase (not NUL-terminated, at most CLI_PASS_MAX bytes) to pass and its length
 * to *len. Empty passphrases are refused. Prints one line and returns CLI_EXIT_ERROR on failure.
 * The caller wipes pass. */
int cli_passphrase_get(const char *cmd, char pass[CLI_PASS_MAX], size_t *len, const char *file,
                       int confirm);

/* Decode a hex argument of any length up to cap bytes. Prints one line naming flag and returns
 * CLI_EXIT_ERROR on failure. */
int cli_hex_arg(const char *cmd, const char *flag, const char *hex, uint8_t *out, size_t cap,
                size_t *outlen);

/* Parse a decimal unsigned 64-bit value (no sign, no spaces, no overflow). */
int cli_u64_arg(const char *cmd, const char *flag, const char *s, unsigned long long max,
                unsigned long long *out);

/* Parse a time given as seconds since 1970 or "YYYY-MM-DDTHH:MM:SSZ" (UTC). Prints one line
 * naming flag and returns CLI_EXIT_ERROR when it is neither. */
int cli_time_arg(const char *cmd, const char *flag, const char *s, uint64_t *out);
/* Print seconds since 1970 as "N (YYYY-MM-DDTHH:MM:SSZ)". */
void cli_time_print(FILE *f, uint64_t secs);

/* Write s[0..len) as a JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD. */
void cli_json_str(FILE *f, const char *s, size_t len);
/* 1 when s[0..len) is valid UTF-8 without NUL bytes. */
int cli_utf8_valid(const char *s, size_t len);
/* Write s[0..len) for a human on a terminal: printable bytes as they are, control bytes as
 * \xNN, so untrusted text can neither break lines nor send escape sequences. */
void cli_text_safe(FILE *f, const char *s, size_t len);
/* Write len bytes as lowercase hex. */
void cli_hex_print(FILE *f, const uint8_t *b, size_t len);

/* Flush stdout and report a write error (full disk, closed pipe) as one line. Returns 0 or
 * CLI_EXIT_ERROR. Every command calls it before returning success. */
int cli_stdout_done(const char *cmd);

/* Install the signal handlers that restore the terminal and remove a pending temporary file. */
void cli_signals_init(void);

#endif
