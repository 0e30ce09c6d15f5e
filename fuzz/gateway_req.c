/* Fuzz target: the gateway's request parsing — ?format=, ?dag-scope=, ?filename=, the Accept
 * header (media ranges, CAR version parameters) and the Range header — through node_gw_plan on
 * a small real block store, then the planned body read back in pieces.
 *
 * Input: one selector byte (which root: a raw block, a 5-leaf CIDv1 file, a 3-leaf CIDv0 file
 * with dag-pb leaves, an absent block, or the CID text given in the first field), then the
 * fields "FORMAT\nSCOPE\nFILENAME\nACCEPT\nRANGE\nPIECE\nENTITY_BYTES"; a field past the end of the
 * input is absent (NULL), an empty line is an empty value. Checked beyond "no crash, no sanitizer
 * report": the plan's return agrees with its status; errors carry a code and a known status;
 * a planned body reads back to exactly its announced length; a file body (200) is the file, a
 * 206 body is the slice its Content-Range names; a raw body hashes to the root's CID; a CAR
 * body is a CAR whose blocks all verify and whose first block is the root. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwchain/car.h"
#include "gateway.h"
#include "import.h"
#include "pins.h"
#include "../tests/node/store_util.h"

static char dir[] = "/tmp/fwc-fuzz-gw-XXXXXX";
static struct node_bs *bs;
static struct node_pins *pins;
static sqlite3 *db;

#define NROOTS 3
static struct fwc_cid roots[NROOTS];
static uint8_t files[NROOTS][5000];
static size_t file_len[NROOTS];

static void cleanup(void)
{
	node_pins_close(pins);
	sqlite3_close(db);
	node_bs_close(bs);
	su_rmtree(dir);
}

static void import(int i, unsigned version, size_t chunk, size_t len)
{
	struct node_import_options o;
	struct node_import *im = NULL;
	struct node_import_result r;

	for (size_t k = 0; k < len; k++)
		files[i][k] = (uint8_t)(k * 7 + (unsigned)i);
	file_len[i] = len;
	node_import_options_default(&o, NODE_IMPORT_FILE);
	o.cid_version = version;
	o.chunk_size = chunk;
	if (node_import_begin(&im, pins, &o, NULL) != FWC_OK ||
	    node_import_push(im, files[i], len, NULL) != FWC_OK ||
	    node_import_finish(im, &r, NULL) != FWC_OK)
		abort();
	node_import_free(im);
	roots[i] = r.root;
}

static void setup(void)
{
	char p[300];

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(p, sizeof(p), "%s/store", dir);
	if (node_bs_open(&bs, p, NULL, NULL) != FWC_OK ||
	    sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    node_pins_open(&pins, db, bs, NULL) != FWC_OK)
		abort();
	import(0, 1, 0, 11);      /* one raw block */
	import(1, 1, 1000, 4500); /* 5 raw leaves under a dag-pb root */
	import(2, 0, 1000, 2100); /* CIDv0: 3 dag-pb leaves */
}

/* Next '\n'-terminated field; NULL when the input ended before it. */
static const char *field(char *out, size_t cap, const uint8_t *in, size_t len, size_t *off)
{
	size_t n = 0;

	if (*off >= len)
		return NULL;
	while (*off < len && in[*off] != '\n') {
		if (n + 1 < cap && in[*off] != '\0')
			out[n++] = (char)in[*off];
		(*off)++;
	}
	if (*off < len)
		(*off)++;
	out[n] = '\0';
	return out;
}

static void check_car(const uint8_t *b, size_t len, const struct fwc_cid *root)
{
	struct fwc_car_reader rd;
	struct fwc_car_header h;
	struct fwc_car_block blk;
	int rc, first = 1;

	if (fwc_car_reader_init(&rd, &h, b, len, 2u << 20, NULL) != FWC_OK)
		abort();
	while ((rc = fwc_car_reader_next(&rd, &blk, NULL)) == 1) {
		if (first && memcmp(blk.cid.digest, root->digest, FWC_CID_DIGEST_LEN) != 0)
			abort();
		first = 0;
	}
	if (rc != 0 || first)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char fmt[64], scope[64], fname[400], accept[400], range[200], piece[16], cidtxt[130];
	char eb[80];
	struct node_gw_request req;
	struct node_gw_plan plan;
	struct fwc_cid missing;
	const struct fwc_cid *root = NULL;
	uint8_t *body = NULL;
	size_t off = 1, step, got = 0;
	int sel, rc;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size == 0)
		return 0;
	sel = data[0] % 5;
	memset(&req, 0, sizeof(req));
	req.format = field(fmt, sizeof(fmt), data, size, &off);
	req.dag_scope = field(scope, sizeof(scope), data, size, &off);
	req.filename = field(fname, sizeof(fname), data, size, &off);
	req.accept = field(accept, sizeof(accept), data, size, &off);
	req.range = field(range, sizeof(range), data, size, &off);
	step = field(piece, sizeof(piece), data, size, &off) ? (size_t)strtoul(piece, NULL, 10) : 0;
	req.entity_bytes = field(eb, sizeof(eb), data, size, &off);
	if (step == 0 || step > 1u << 20)
		step = 65536;
	if (sel < NROOTS) {
		root = &roots[sel];
		fwc_cid_format(cidtxt, sizeof(cidtxt), root);
		req.cid = cidtxt;
	} else if (sel == 3) {
		memset(&missing, 0, sizeof(missing));
		missing.version = 1;
		missing.codec = FWC_CID_CODEC_RAW;
		missing.mh_code = FWC_MH_SHA2_256;
		memset(missing.digest, 0xab, sizeof(missing.digest));
		fwc_cid_format(cidtxt, sizeof(cidtxt), &missing);
		req.cid = cidtxt;
	} else {
		req.cid = req.format ? req.format : ""; /* an arbitrary CID text */
		req.format = NULL;
	}

	rc = node_gw_plan(&plan, bs, &req);
	if ((rc == FWC_OK) != (plan.status == 200 || plan.status == 206))
		abort();
	if (rc != FWC_OK) {
		if (plan.error_code[0] == '\0' ||
		    (plan.status != 400 && plan.status != 404 && plan.status != 406 &&
		     plan.status != 416 && plan.status != 500 && plan.status != 501))
			abort();
		if (plan.status == 416 && strncmp(plan.content_range, "bytes */", 8) != 0)
			abort();
		node_gw_plan_cleanup(&plan);
		return 0;
	}
	if (plan.length > 64u << 20)
		abort();
	body = malloc(plan.length ? plan.length : 1);
	if (body == NULL)
		abort();
	while (got < plan.length) {
		ssize_t n = node_gw_read(&plan, bs, got, body + got, step);

		if (n <= 0)
			abort();
		got += (size_t)n;
	}
	if (node_gw_read(&plan, bs, got, body, 1) != 0)
		abort();
	if (root != NULL) {
		if (plan.format == NODE_GW_FILE && plan.status == 200 &&
		    (got != file_len[sel] || memcmp(body, files[sel], got) != 0))
			abort();
		if (plan.format == NODE_GW_FILE && plan.status == 206) {
			unsigned long long a, b, n;

			if (sscanf(plan.content_range, "bytes %llu-%llu/%llu", &a, &b, &n) != 3 ||
			    n != file_len[sel] || b < a || b >= n || b - a + 1 != got ||
			    memcmp(body, files[sel] + a, got) != 0)
				abort();
		}
		if (plan.format == NODE_GW_RAW && plan.status == 200 &&
		    !fwc_cid_matches(root, body, got))
			abort();
		if (plan.format == NODE_GW_CAR)
			check_car(body, got, root);
	}
	free(body);
	node_gw_plan_cleanup(&plan);
	return 0;
}
