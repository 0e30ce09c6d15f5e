/* fwchain CLI helpers: option parsing, one-line errors, passphrases, bounded reads, atomic
 * writes, JSON and terminal-safe output.
 *
 * The tool's contract is that every failure ends in exactly one line on stderr and a non-zero
 * exit, and that no command leaves a partial output file behind. So every helper here that can
 * fail prints its own line (naming the command, the file and the reason) and returns the exit
 * code, and callers just propagate it. Output files are written to a temporary file in the same
 * folder, synced, and then renamed (or hard-linked, when an existing file must not be replaced)
 * into place; the one pending temporary file and the terminal's echo setting live in two
 * globals so a signal handler can undo them if the user interrupts. The option parser is our
 * own (long options only, "--opt value" or "--opt=value") because getopt_long's messages and
 * global state do not fit the one-line error rule. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"

/* State the signal handler undoes. Written only with signals' effect in mind: the path is
 * complete before pending_tmp_set is raised, and the handler only calls async-signal-safe
 * functions. */
static char pending_tmp[PATH_MAX];
static volatile sig_atomic_t pending_tmp_set;
static struct termios tty_saved;
static volatile sig_atomic_t tty_fd_saved = -1;

static void on_signal(int sig)
{
	if (tty_fd_saved >= 0)
		tcsetattr(tty_fd_saved, TCSAFLUSH, &tty_saved);
	if (pending_tmp_set)
		unlink(pending_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- errors ---- */

/* Print "fwchain: CMD: MSG\n" with control characters in MSG replaced, so a file name or a
 * decoder message can never split the line. */
static void err_line(const char *cmd, const char *msg)
{
	char line[768];
	size_t i, n;

	if (cmd != NULL)
		n = (size_t)snprintf(line, sizeof(line), "fwchain: %s: %s", cmd, msg);
	else
		n = (size_t)snprintf(line, sizeof(line), "fwchain: %s", msg);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
}

int cli_err(const char *cmd, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_line(cmd, msg);
	return CLI_EXIT_ERROR;
}

int cli_err_rc(const char *cmd, int rc, const struct fwc_errinfo *ei, const char *fmt, ...)
{
	char ctx[400], msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	if (ei != NULL && ei->msg[0] != '\0')
		snprintf(msg, sizeof(msg), "%s: %s: %.*s", ctx, fwc_strerror(rc),
		         (int)sizeof(ei->msg), ei->msg);
	else
		snprintf(msg, sizeof(msg), "%s: %s", ctx, fwc_strerror(rc));
	err_line(cmd, msg);
	return CLI_EXIT_ERROR;
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
	char what[400], msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		snprintf(msg, sizeof(msg), "%s (see 'fwchain %s --help')", what, cmd);
	else
		snprintf(msg, sizeof(msg), "%s (see 'fwchain --help')", what);
	err_line(cmd, msg);
	return CLI_EXIT_ERROR;
}

/* ---- options ---- */

void cli_parser_init(struct cli_parser *p, const char *cmd, int argc, char **argv, int first)
{
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	p->i = first;
	p->only_pos = 0;
}

int cli_next(struct cli_parser *p, const struct cli_opt *opts, const char **val)
{
	const char *a, *name, *eq;
	size_t n;

	*val = NULL;
	for (;;) {
		if (p->i >= p->argc)
			return CLI_NEXT_END;
		a = p->argv[p->i++];
		if (p->only_pos || a[0] != '-' || a[1] == '\0') {
			*val = a;
			return CLI_NEXT_POS;
		}
		if (strcmp(a, "--") != 0)
			break;
		p->only_pos = 1;
	}
	if (strcmp(a, "-h") == 0)
		a = "--help";
	if (a[1] != '-') {
		cli_usage_err(p->cmd, "unknown option '%s'", a);
		return CLI_NEXT_BAD;
	}
	name = a + 2;
	eq = strchr(name, '=');
	n = eq != NULL ? (size_t)(eq - name) : strlen(name);
	for (; opts->name != NULL; opts++) {
		if (strlen(opts->name) != n || memcmp(opts->name, name, n) != 0)
			continue;
		if (!opts->has_value) {
			if (eq != NULL) {
				cli_usage_err(p->cmd, "option --%s takes no value", opts->name);
				return CLI_NEXT_BAD;
			}
			return opts->id;
		}
		if (eq != NULL) {
			*val = eq + 1;
		} else if (p->i < p->argc) {
			*val = p->argv[p->i++];
		} else {
			cli_usage_err(p->cmd, "option --%s needs a value", opts->name);
			return CLI_NEXT_BAD;
		}
		return opts->id;
	}
	cli_usage_err(p->cmd, "unknown option '--%.*s'", (int)(n > 64 ? 64 : n), name);
	return CLI_NEXT_BAD;
}

int cli_hex_arg(const char *cmd, const char *flag, const char *hex, uint8_t *out, size_t cap,
                size_t *outlen)
{
	size_t n = strlen(hex);

	if (n % 2 != 0)
		return cli_err(cmd, "%s: odd number of hex digits (%zu)", flag, n);
	if (n / 2 > cap)
		return cli_err(cmd, "%s: too long (%zu bytes, at most %zu)", flag, n / 2, cap);
	if (fwc_hex_decode(out, cap, outlen, hex, n) < 0)
		return cli_err(cmd, "%s: not a hex string", flag);
	return 0;
}

int cli_u64_arg(const char *cmd, const char *flag, const char *s, unsigned long long max,
                unsigned long long *out)
{
	unsigned long long v = 0;
	const char *c;

	if (*s == '\0')
		return cli_err(cmd, "%s: empty number", flag);
	for (c = s; *c != '\0'; c++) {
		unsigned d;

		if (*c < '0' || *c > '9')
			return cli_err(cmd, "%s: '%.32s' is not a decimal number", flag, s);
		d = (unsigned)(*c - '0');
		if (v > (max - d) / 10)
			return cli_err(cmd, "%s: %.32s is out of range (at most %llu)", flag, s,
			               max);
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- files ---- */

int cli_file_read(const char *cmd, const char *path, size_t cap, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b = NULL, *nb;
	size_t n = 0, size;
	ssize_t r;
	int fd, is_stdin = strcmp(path, "-") == 0, rc = CLI_EXIT_ERROR;

	if (*path == '\0')
		return cli_err(cmd, "empty file name");
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_err(cmd, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		cli_err(cmd, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		cli_err(cmd, "%s is a directory", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > cap) {
		cli_err(cmd, "%s is too large (%lld bytes, at most %zu)", path,
		        (long long)st.st_size, cap);
		goto out;
	}
	/* Start from the size stat reported and grow (pipes, files that change under us), but
	 * never beyond cap + 1: one byte more than allowed is enough to know it is too much. */
	size = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	if (size > cap + 1)
		size = cap + 1;
	b = malloc(size + 1);
	if (b == NULL) {
		cli_err(cmd, "reading %s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (n == size) {
			if (size > cap) {
				cli_err(cmd, "%s is too large (more than %zu bytes)", path, cap);
				goto out;
			}
			size = size > cap / 2 ? cap + 1 : size * 2;
			nb = realloc(b, size + 1);
			if (nb == NULL) {
				cli_err(cmd, "reading %s: out of memory", path);
				goto out;
			}
			b = nb;
		}
		r = read(fd, b + n, size - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			cli_err(cmd, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > cap) {
		cli_err(cmd, "%s is too large (more than %zu bytes)", path, cap);
		goto out;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	free(b);
	if (!is_stdin)
		close(fd);
	return rc;
}

static void dir_sync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* best effort: the data itself is already synced */
		close(fd);
	}
}

int cli_file_write_atomic(const char *cmd, const char *path, const void *data, size_t len,
                          mode_t mode, int replace)
{
	const uint8_t *p = data;
	size_t plen = strlen(path), off = 0;
	struct stat st;
	int fd = -1, rc = CLI_EXIT_ERROR;

	if (plen == 0)
		return cli_err(cmd, "empty output file name");
	if (plen + 16 > sizeof(pending_tmp))
		return cli_err(cmd, "output file name too long");
	if (!replace && lstat(path, &st) == 0)
		return cli_err(cmd, "%s already exists (refusing to overwrite)", path);
	memcpy(pending_tmp, path, plen);
	memcpy(pending_tmp + plen, ".tmp-XXXXXX", 12);
	fd = mkstemp(pending_tmp);
	if (fd < 0)
		return cli_err(cmd, "cannot create a temporary file next to %s: %s", path,
		               strerror(errno));
	pending_tmp_set = 1;
	if (fchmod(fd, mode) != 0) {
		cli_err(cmd, "cannot set mode of %s: %s", pending_tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			cli_err(cmd, "cannot write %s: %s", pending_tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		cli_err(cmd, "cannot sync %s: %s", pending_tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		cli_err(cmd, "cannot write %s: %s", pending_tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (replace) {
		if (rename(pending_tmp, path) != 0) {
			cli_err(cmd, "cannot rename %s to %s: %s", pending_tmp, path,
			        strerror(errno));
			goto out;
		}
	} else {
		/* link() fails with EEXIST if the name appeared meanwhile: no clobbering even
		 * under a race. The temporary name is removed below in both cases. */
		if (link(pending_tmp, path) != 0) {
			if (errno == EEXIST)
				cli_err(cmd, "%s already exists (refusing to overwrite)", path);
			else
				cli_err(cmd, "cannot create %s: %s", path, strerror(errno));
			goto out;
		}
		unlink(pending_tmp);
	}
	pending_tmp_set = 0;
	dir_sync(path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pending_tmp_set) {
		unlink(pending_tmp);
		pending_tmp_set = 0;
	}
	return rc;
}

int cli_stdout_done(const char *cmd)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_err(cmd, "cannot write standard output: %s", strerror(errno));
	return 0;
}

/* ---- passphrases ---- */

/* Read a line from the terminal with echo off. Returns bytes read, -1 on error, -2 when the
 * line is longer than cap. */
static ssize_t tty_read_line(int fd, const char *prompt, char *out, size_t cap)
{
	struct termios t;
	size_t n = 0;
	int too_long = 0, echo_off = 0, eof = 0;
	char c;

	if (tcgetattr(fd, &tty_saved) == 0) {
		t = tty_saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t.c_lflag |= ICANON;
		tty_fd_saved = fd;
		if (tcsetattr(fd, TCSAFLUSH, &t) == 0)
			echo_off = 1;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* Nothing useful to do: the read below still works or fails on its own. */
	}
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			eof = n == 0;
			break;
		}
		if (c == '\n')
			break;
		if (n < cap)
			out[n++] = c;
		else
			too_long = 1;
	}
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
	tty_fd_saved = -1;
	if (write(fd, "\n", 1) < 0) {
		/* Cosmetic only. */
	}
	fwc_wipe(&c, sizeof(c));
	if (eof)
		return -1;
	if (n > 0 && out[n - 1] == '\r')
		n--;
	return too_long ? -2 : (ssize_t)n;
}

int cli_passphrase_get(const char *cmd, char pass[CLI_PASS_MAX], size_t *len, const char *file,
                       int confirm)
{
	char again[CLI_PASS_MAX];
	const char *env;
	ssize_t n, m;
	int fd, rc = CLI_EXIT_ERROR;

	if (file != NULL) {
		uint8_t *b = NULL;
		size_t blen = 0, i;

		if (cli_file_read(cmd, file, CLI_PASS_MAX + 2, &b, &blen) != 0)
			return CLI_EXIT_ERROR;
		/* The first line is the passphrase; a trailing "\n" or "\r\n" is not part of
		 * it, so files written by `echo` work. */
		for (i = 0; i < blen && b[i] != '\n'; i++)
			;
		if (i > 0 && b[i - 1] == '\r')
			i--;
		if (i > CLI_PASS_MAX)
			rc = cli_err(cmd, "passphrase in %s is too long (at most %d bytes)", file,
			             CLI_PASS_MAX);
		else if (i == 0)
			rc = cli_err(cmd, "passphrase file %s is empty", file);
		else {
			memcpy(pass, b, i);
			*len = i;
			rc = 0;
		}
		fwc_wipe(b, blen);
		free(b);
		return rc;
	}
	env = getenv("FWCHAIN_PASSPHRASE");
	if (env != NULL) {
		size_t el = strlen(env);
		if (el == 0)
			return cli_err(cmd, "FWCHAIN_PASSPHRASE is set but empty");
		if (el > CLI_PASS_MAX)
			return cli_err(cmd, "FWCHAIN_PASSPHRASE is too long (at most %d bytes)",
			               CLI_PASS_MAX);
		memcpy(pass, env, el);
		*len = el;
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cli_err(cmd, "no passphrase: give --passphrase-file FILE or set "
		                    "FWCHAIN_PASSPHRASE (no terminal to prompt on)");
	n = tty_read_line(fd, "Passphrase: ", pass, CLI_PASS_MAX);
	if (n == -2) {
		cli_err(cmd, "passphrase too long (at most %d bytes)", CLI_PASS_MAX);
		goto out;
	}
	if (n <= 0) {
		cli_err(cmd, "no passphrase entered");
		goto out;
	}
	if (confirm) {
		m = tty_read_line(fd, "Repeat passphrase: ", again, CLI_PASS_MAX);
		if (m != n || memcmp(pass, again, (size_t)n) != 0) {
			cli_err(cmd, "passphrases do not match");
			goto out;
		}
	}
	*len = (size_t)n;
	rc = 0;
out:
	fwc_wipe(again, sizeof(again));
	if (rc != 0)
		fwc_wipe(pass, CLI_PASS_MAX);
	close(fd);
	return rc;
}

/* ---- text output ---- */

/* Length (1..4) of the valid UTF-8 sequence at s, *cp its code point; 0 when invalid
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned long *cp)
{
	unsigned long c, min;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int cli_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq(u + i, len - i, &cp);
		if (n == 0 || cp == 0)
			return 0;
		i += n;
	}
	return 1;
}

void cli_json_str(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, n;

	fputc('"', f);
	while (i < len) {
		n = utf8_seq(u + i, len - i, &cp);
		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		switch (cp) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (cp < 0x20 || cp == 0x7f)
				fprintf(f, "\\u%04lx", cp);
			else
				fwrite(u + i, 1, n, f);
		}
		i += n;
	}
	fputc('"', f);
}

void cli_text_safe(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, n, k;

	while (i < len) {
		n = utf8_seq(u + i, len - i, &cp);
		/* C0 and C1 controls (C1 includes the one-byte CSI, U+009B) are shown as bytes. */
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			if (n == 0)
				n = 1;
			for (k = 0; k < n; k++)
				fprintf(f, "\\x%02x", u[i + k]);
		} else {
			fwrite(u + i, 1, n, f);
		}
		i += n;
	}
}

void cli_hex_print(FILE *f, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x", b[i]);
}

/* ---- time values ---- */

int cli_time_arg(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
	struct tm tm;
	unsigned long long v = 0;
	int y, mo, d, h, mi, se, n = 0;
	time_t t;

	if (s[0] >= '0' && s[0] <= '9' && strchr(s, '-') == NULL) {
		if (cli_u64_arg(cmd, flag, s, 253402300799ULL, &v) != 0)
			return CLI_EXIT_ERROR;
		*out = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    s[n] != '\0' || y < 1970)
		return cli_err(cmd,
		               "%s: '%.40s' is neither seconds since 1970 nor "
		               "YYYY-MM-DDTHH:MM:SSZ",
		               flag, s);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm normalises 2024-02-30 into March; a date that changes is not a date. */
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d ||
	    tm.tm_hour != h || tm.tm_min != mi || tm.tm_sec != se)
		return cli_err(cmd, "%s: '%.40s' is not a valid date and time", flag, s);
	*out = (uint64_t)t;
	return 0;
}

void cli_time_print(FILE *f, uint64_t secs)
{
	char buf[64];
	struct tm tm;
	time_t t = (time_t)secs;

	fprintf(f, "%llu", (unsigned long long)secs);
	if ((uint64_t)t == secs && gmtime_r(&t, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		fprintf(f, " (%s)", buf);
}
