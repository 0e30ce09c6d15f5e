/* fwchain cid: the IPFS CID of a file, exactly as `ipfs add` prints it, in constant memory.
 *
 * The file is streamed through libfwchain's UnixFS importer (256 KiB chunks, balanced DAG of
 * at most 174 links, Kubo's defaults for the CID version), which also yields the flat SHA-256
 * and size in the same pass; `manifest create --image` uses the same function, so an image is
 * read once. Reads go through one 1 MiB heap buffer with read(2) (no stdio buffering, no mmap,
 * whose page cache would count toward RSS on big images), so peak memory is that buffer plus
 * the importer's chunk and per-level node state, whatever the file size, and throughput is
 * bound by SHA-256 rather than by system calls. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwchain/cid.h"
#include "fwchain/hex.h"
#include "fwchain/unixfs.h"
#include "commands.h"
#include "util.h"

#define READ_BUF_SIZE ((size_t)1 << 20)

int cli_image_import(const char *cmd, struct fwc_unixfs_result *res, const char *path,
                     unsigned cid_version)
{
	struct fwc_unixfs_options opt;
	struct fwc_unixfs_importer *im = NULL;
	struct fwc_unixfs_result r;
	uint8_t *buf = NULL;
	int fd, rc = CLI_EXIT_ERROR, lrc, is_stdin = strcmp(path, "-") == 0;

	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_err(cmd, "cannot open %s: %s", path, strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	buf = malloc(READ_BUF_SIZE);
	if (buf == NULL) {
		cli_err(cmd, "out of memory");
		goto out;
	}
	fwc_unixfs_options_default(&opt, cid_version);
	if ((lrc = fwc_unixfs_importer_new(&im, &opt, NULL)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "starting the UnixFS importer");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* EISDIR lands here: open() succeeds on a folder, read() does not. */
			cli_err(cmd, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((lrc = fwc_unixfs_importer_feed(im, buf, (size_t)n)) < 0) {
			cli_err_rc(cmd, lrc, NULL, "importing %s", path);
			goto out;
		}
	}
	if ((lrc = fwc_unixfs_importer_finish(im, &r)) < 0) {
		cli_err_rc(cmd, lrc, NULL, "importing %s", path);
		goto out;
	}
	*res = r;
	rc = 0;
out:
	fwc_unixfs_importer_free(im);
	free(buf);
	if (!is_stdin)
		close(fd);
	return rc;
}

int cli_cid_version_arg(const char *cmd, const char *val, unsigned *version)
{
	if (strcmp(val, "0") == 0)
		*version = 0;
	else if (strcmp(val, "1") == 0)
		*version = 1;
	else
		return cli_usage_err(cmd, "--cid-version must be 0 or 1, not '%.16s'", val);
	return 0;
}

static const char cid_help[] =
    "usage: fwchain cid [--cid-version 0|1] [--json] FILE\n"
    "\n"
    "Prints the CID of FILE ('-' for standard input) alone on stdout, the same CID\n"
    "'ipfs add' prints (256 KiB chunks, balanced DAG, sha2-256):\n"
    "\n"
    "  --cid-version 1  (default) as 'ipfs add --cid-version=1': raw leaves, \"bafy...\"\n"
    "                   (\"bafk...\" for a file of one chunk)\n"
    "  --cid-version 0  as plain 'ipfs add': dag-pb leaves, \"Qm...\"\n"
    "  --json           print {\"cid\",\"size\",\"sha256\"} (the flat SHA-256 of FILE)\n"
    "\n"
    "The file is streamed in constant memory (about 2 MiB whatever its size).\n"
    "\n"
    "Exit codes: 0 printed; 2 usage error or unreadable FILE.\n";

enum { O_HELP = 1, O_CIDV, O_JSON };

int cmd_cid(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	    {"help", O_HELP, 0},
	    {"cid-version", O_CIDV, 1},
	    {"json", O_JSON, 0},
	    {NULL, 0, 0},
	};
	const char *cmd = "cid", *val, *file = NULL;
	struct fwc_unixfs_result res;
	char text[FWC_CID_STR_MAX];
	struct cli_parser p;
	unsigned version = 1;
	int id, json = 0, rc;

	cli_parser_init(&p, cmd, argc, argv, 1);
	while ((id = cli_next(&p, opts, &val)) != CLI_NEXT_END) {
		switch (id) {
		case O_HELP:
			fputs(cid_help, stdout);
			return cli_stdout_done(cmd);
		case O_CIDV:
			if (cli_cid_version_arg(cmd, val, &version) != 0)
				return CLI_EXIT_ERROR;
			break;
		case O_JSON:
			json = 1;
			break;
		case CLI_NEXT_POS:
			if (file != NULL)
				return cli_usage_err(cmd, "only one FILE");
			file = val;
			break;
		default:
			return CLI_EXIT_ERROR;
		}
	}
	if (file == NULL)
		return cli_usage_err(cmd, "missing FILE");
	if (cli_image_import(cmd, &res, file, version) != 0)
		return CLI_EXIT_ERROR;
	if ((rc = fwc_cid_format(text, sizeof(text), &res.root)) < 0)
		return cli_err_rc(cmd, rc, NULL, "formatting the CID");
	if (json) {
		printf("{\"cid\":\"%s\",\"size\":%llu,\"sha256\":\"", text,
		       (unsigned long long)res.size);
		cli_hex_print(stdout, res.sha256, sizeof(res.sha256));
		fputs("\"}\n", stdout);
	} else {
		printf("%s\n", text);
	}
	return cli_stdout_done(cmd);
}
