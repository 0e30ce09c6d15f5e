/* fwchaind upload ingest: file bytes or a CAR, pushed in pieces, into a pinned complete DAG.
 *
 * Design: an upload is a push pipeline — node_import_push hands bytes to the UnixFS importer
 * or the CAR stream reader, whose per-block callback puts each verified block through one
 * upload session with the directory fsync deferred. Nothing refers to the blocks until
 * node_import_finish has synced the directories, walked the DAG from the root (so a CAR that
 * omits a block is refused, naming it) and pinned the root; only then does the session end.
 * A failure at any point, an abandoned upload or a crash therefore leaves only unreferenced,
 * whole blocks, which the next GC collects. Limits are checked before each block is stored,
 * so an oversized upload stops at the first block beyond its limit.
 *
 * Storage is one stage of the block store per upload (node/blockstore.h): new blocks are
 * appended, unsynced, to the upload's temp pack as they are verified, and node_import_finish
 * commits it — one fdatasync, one rename, one directory fsync, whatever the upload's size —
 * before walking the DAG and pinning. Until that commit nothing of the upload is visible or
 * durable; a crash leaves a temp file the next open deletes. (One durable file per block cost
 * a file creation and an fsync each, ~1.5-5 ms on this project's VMs: three times slower
 * than sha256sum over the same file even with 8 writer threads.) The importer derived (or,
 * for a CAR, checked) every CID from the bytes, so the store is told not to hash them again.
 *
 * Pipelining: the pusher's thread (an HTTP thread) receives, chunks and hashes; copying a
 * block into the page cache is a third of the node's CPU time for an upload, so one writer
 * thread per upload does the stage puts, fed copies of the blocks through a ring of
 * NODE_IMPORT_RING slots (memory: that many of the store's largest block). A writer's
 * failure is reported at the next block or at finish. */
#include "import.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/car.h"
#include "fwchain/unixfs.h"

#define NODE_IMPORT_RING 4

struct slot {
	struct fwc_cid cid;
	uint8_t *data; /* node_bs_max_block bytes */
	size_t len;
};

struct node_import {
	struct node_pins *pins;
	struct node_bs *bs;
	struct node_import_options opt;
	char origin[NODE_PIN_ORIGIN_MAX + 1];
	struct node_pins_session *sess;
	struct node_bs_stage *stage;    /* until finished or freed */
	struct fwc_unixfs_importer *ux; /* FILE */
	struct fwc_car_stream car;      /* CAR */
	uint8_t *carbuf;
	struct fwc_cid root;
	int have_root;
	uint64_t blocks, bytes, fed;
	int err;      /* sticky failure */
	int finished; /* pinned; the session is over */
	struct fwc_errinfo sink_ei;
	int sink_failed; /* sink_ei holds the precise reason of the last failure */
	uint8_t expect[32];
	int has_expect;
	/* the writer thread and its ring */
	pthread_t writer;
	int writer_on;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	struct slot ring[NODE_IMPORT_RING];
	size_t head, count; /* queued slots: ring[head], ring[head + 1], ...; the writer
	                       holds ring[head] until it is stored (still counted) */
	int wstop;
	int werr; /* the writer's failure (sticky), its reason in wei */
	struct fwc_errinfo wei;
};

static void *writer_main(void *arg)
{
	struct node_import *im = arg;

	pthread_mutex_lock(&im->wmu);
	for (;;) {
		struct fwc_errinfo ei = {0};
		struct slot *s;
		int rc = FWC_OK;

		while (im->count == 0 && !im->wstop)
			pthread_cond_wait(&im->wcv, &im->wmu);
		if (im->count == 0)
			break;
		s = &im->ring[im->head];
		if (im->werr == 0) {
			pthread_mutex_unlock(&im->wmu);
			rc = node_pins_session_stage_put(im->pins, im->sess, im->stage, &s->cid,
			                                 s->data, s->len, NODE_BS_VERIFIED, &ei);
			pthread_mutex_lock(&im->wmu);
		}
		if (rc < 0 && im->werr == 0) {
			im->werr = rc;
			im->wei = ei;
		}
		im->head = (im->head + 1) % NODE_IMPORT_RING;
		im->count--;
		pthread_cond_broadcast(&im->wcv);
	}
	pthread_mutex_unlock(&im->wmu);
	return NULL;
}

/* Wait until every queued block is in the stage; the writer's failure, or FWC_OK. */
static int writer_drain(struct node_import *im)
{
	int rc;

	if (!im->writer_on)
		return FWC_OK;
	pthread_mutex_lock(&im->wmu);
	while (im->count > 0)
		pthread_cond_wait(&im->wcv, &im->wmu);
	rc = im->werr;
	if (rc < 0)
		im->sink_ei = im->wei;
	pthread_mutex_unlock(&im->wmu);
	return rc;
}

static void writer_stop(struct node_import *im)
{
	if (!im->writer_on)
		return;
	pthread_mutex_lock(&im->wmu);
	im->wstop = 1;
	im->werr = im->werr ? im->werr : FWC_ERR_STATE; /* drop what is still queued */
	pthread_cond_broadcast(&im->wcv);
	pthread_mutex_unlock(&im->wmu);
	pthread_join(im->writer, NULL);
	im->writer_on = 0;
	pthread_mutex_destroy(&im->wmu);
	pthread_cond_destroy(&im->wcv);
}

/* Copy the block into the next free slot (waiting while the ring is full). */
static int writer_put(struct node_import *im, const struct fwc_cid *cid, const uint8_t *data,
                      size_t len)
{
	struct slot *s;
	int rc;

	if (len > node_bs_max_block(im->bs)) /* the store's refusal, without touching the stage */
		return fwc_fail(&im->sink_ei, 0, FWC_ERR_TOO_LARGE,
		                "block of %zu bytes, more than the store's maximum of %zu", len,
		                node_bs_max_block(im->bs));
	pthread_mutex_lock(&im->wmu);
	while (im->count == NODE_IMPORT_RING && im->werr == 0)
		pthread_cond_wait(&im->wcv, &im->wmu);
	rc = im->werr;
	if (rc < 0) {
		im->sink_ei = im->wei;
		pthread_mutex_unlock(&im->wmu);
		return rc;
	}
	s = &im->ring[(im->head + im->count) % NODE_IMPORT_RING];
	pthread_mutex_unlock(&im->wmu);
	/* The slot is free (not counted), so the writer does not touch it: copy unlocked. */
	s->cid = *cid;
	if (len)
		memcpy(s->data, data, len);
	s->len = len;
	pthread_mutex_lock(&im->wmu);
	im->count++;
	pthread_cond_broadcast(&im->wcv);
	pthread_mutex_unlock(&im->wmu);
	return FWC_OK;
}

void node_import_options_default(struct node_import_options *opt, enum node_import_kind kind)
{
	memset(opt, 0, sizeof(*opt));
	opt->kind = kind;
	opt->cid_version = 1;
	opt->chunk_size = 0;
	opt->max_bytes = NODE_IMPORT_DEFAULT_MAX_BYTES;
	opt->max_blocks = NODE_IMPORT_DEFAULT_MAX_BLOCKS;
	opt->pin_origin = NULL;
	opt->expect_sha256 = NULL;
}

/* Every block of the upload passes here, its CID derived from (importer) or checked against
 * (CAR reader) its bytes by its producer. */
static int store_block(struct node_import *im, const struct fwc_cid *cid, const uint8_t *data,
                       size_t len)
{
	int rc;

	if (im->blocks + 1 > im->opt.max_blocks) {
		im->sink_failed = 1;
		return fwc_fail(&im->sink_ei, 0, FWC_ERR_TOO_LARGE,
		                "upload has more than %llu blocks",
		                (unsigned long long)im->opt.max_blocks);
	}
	if (im->opt.kind == NODE_IMPORT_CAR && im->bytes + len > im->opt.max_bytes) {
		im->sink_failed = 1;
		return fwc_fail(&im->sink_ei, 0, FWC_ERR_TOO_LARGE,
		                "upload DAG is larger than %llu bytes",
		                (unsigned long long)im->opt.max_bytes);
	}
	rc = im->writer_on ? writer_put(im, cid, data, len)
	                   : node_pins_session_stage_put(im->pins, im->sess, im->stage, cid, data,
	                                                 len, NODE_BS_VERIFIED, &im->sink_ei);
	if (rc < 0) {
		im->sink_failed = 1;
		return rc;
	}
	im->blocks++;
	im->bytes += len;
	return FWC_OK;
}

static int file_emit(void *ctx, const struct fwc_cid *cid, const uint8_t *block, size_t len)
{
	return store_block(ctx, cid, block, len);
}

static int car_header(void *ctx, const struct fwc_car_header *h)
{
	struct node_import *im = ctx;

	if (h->nroots != 1) {
		im->sink_failed = 1;
		return fwc_fail(&im->sink_ei, 0, FWC_ERR_UNSUPPORTED,
		                "an uploaded CAR must name exactly one root (this one names %zu)",
		                h->nroots);
	}
	im->root = h->roots[0];
	im->have_root = 1;
	return FWC_OK;
}

static int car_block(void *ctx, const struct fwc_car_block *b)
{
	struct node_import *im = ctx;
	int rc = store_block(im, &b->cid, b->data, b->len);

	if (rc < 0)
		im->sink_ei.offset = (size_t)b->offset;
	return rc;
}

int node_import_begin(struct node_import **out, struct node_pins *pins,
                      const struct node_import_options *opt, struct fwc_errinfo *ei)
{
	struct node_import *im;
	const char *origin;
	int rc;

	if (out == NULL || pins == NULL || opt == NULL)
		return FWC_ERR_ARG;
	origin = opt->pin_origin != NULL ? opt->pin_origin : "upload";
	if (strlen(origin) == 0 || strlen(origin) > NODE_PIN_ORIGIN_MAX ||
	    (opt->kind != NODE_IMPORT_FILE && opt->kind != NODE_IMPORT_CAR) ||
	    opt->max_blocks == 0 || (opt->expect_sha256 != NULL && opt->kind != NODE_IMPORT_FILE))
		return fwc_fail(ei, 0, FWC_ERR_ARG, "upload: invalid options");
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return FWC_ERR_NOMEM;
	im->pins = pins;
	im->bs = node_pins_store(pins);
	im->opt = *opt;
	im->opt.pin_origin = NULL;
	im->opt.expect_sha256 = NULL;
	memcpy(im->origin, origin, strlen(origin) + 1);
	if (opt->expect_sha256 != NULL) {
		memcpy(im->expect, opt->expect_sha256, 32);
		im->has_expect = 1;
	}
	if ((rc = node_pins_session_begin(pins, &im->sess)) < 0)
		goto out;
	if ((rc = node_bs_stage_begin(im->bs, &im->stage, ei)) < 0)
		goto out;
	if (opt->kind == NODE_IMPORT_FILE) {
		struct fwc_unixfs_options uo;
		struct fwc_unixfs_sink sink = {file_emit, im};

		if (opt->cid_version > 1) {
			rc = fwc_fail(ei, 0, FWC_ERR_ARG, "upload: CID version %u",
			              opt->cid_version);
			goto out;
		}
		fwc_unixfs_options_default(&uo, opt->cid_version);
		uo.chunk_size = opt->chunk_size;
		rc = fwc_unixfs_importer_new(&im->ux, &uo, &sink);
		if (rc < 0) {
			rc = fwc_fail(ei, 0, rc, "upload: cannot start the UnixFS importer: %s",
			              fwc_strerror(rc));
			goto out;
		}
	} else {
		struct fwc_car_sink sink = {car_header, car_block, im};
		size_t maxb = node_bs_max_block(im->bs);
		size_t cap = maxb + FWC_CID_MAX_BINARY;

		if (cap < FWC_CAR_MAX_HEADER)
			cap = FWC_CAR_MAX_HEADER;
		im->carbuf = malloc(cap);
		if (im->carbuf == NULL) {
			rc = FWC_ERR_NOMEM;
			goto out;
		}
		rc = fwc_car_stream_init(&im->car, &sink, im->carbuf, cap, maxb);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < NODE_IMPORT_RING; i++) {
		im->ring[i].data = malloc(node_bs_max_block(im->bs));
		if (im->ring[i].data == NULL) {
			rc = FWC_ERR_NOMEM;
			goto out;
		}
	}
	pthread_mutex_init(&im->wmu, NULL);
	pthread_cond_init(&im->wcv, NULL);
	if (pthread_create(&im->writer, NULL, writer_main, im) != 0) {
		pthread_mutex_destroy(&im->wmu);
		pthread_cond_destroy(&im->wcv);
		rc = fwc_fail(ei, 0, FWC_ERR_IO, "upload: cannot start the writer thread");
		goto out;
	}
	im->writer_on = 1;
	*out = im;
	im = NULL;
	rc = FWC_OK;
out:
	node_import_free(im);
	return rc;
}

/* Record a failure: the sink's own reason when it has one, else what the reader said. */
static int fail(struct node_import *im, int rc, const struct fwc_errinfo *reader,
                struct fwc_errinfo *ei)
{
	im->err = rc;
	if (ei != NULL) {
		if (im->sink_failed)
			*ei = im->sink_ei;
		else if (reader != NULL)
			*ei = *reader;
		else
			fwc_fail(ei, 0, rc, "upload failed: %s", fwc_strerror(rc));
	}
	return rc;
}

int node_import_push(struct node_import *im, const void *data, size_t len, struct fwc_errinfo *ei)
{
	struct fwc_errinfo rei;
	int rc;

	if (im == NULL || (data == NULL && len > 0))
		return FWC_ERR_ARG;
	if (im->err < 0 || im->finished)
		return fwc_fail(ei, 0, FWC_ERR_STATE, "upload already %s",
		                im->finished ? "finished" : "failed");
	memset(&rei, 0, sizeof(rei));
	if (im->opt.kind == NODE_IMPORT_FILE) {
		if (len > im->opt.max_bytes - im->fed) {
			fwc_fail(&rei, 0, FWC_ERR_TOO_LARGE, "upload is larger than %llu bytes",
			         (unsigned long long)im->opt.max_bytes);
			return fail(im, FWC_ERR_TOO_LARGE, &rei, ei);
		}
		im->fed += len;
		rc = fwc_unixfs_importer_feed(im->ux, data, len);
		return rc < 0 ? fail(im, rc, NULL, ei) : FWC_OK;
	}
	rc = fwc_car_stream_push(&im->car, data, len, &rei);
	return rc < 0 ? fail(im, rc, &rei, ei) : FWC_OK;
}

int node_import_finish(struct node_import *im, struct node_import_result *res,
                       struct fwc_errinfo *ei)
{
	struct fwc_unixfs_result ur;
	struct fwc_errinfo rei;
	struct node_import_result r;
	int rc;

	if (im == NULL)
		return FWC_ERR_ARG;
	if (im->err < 0 || im->finished)
		return fwc_fail(ei, 0, FWC_ERR_STATE, "upload already %s",
		                im->finished ? "finished" : "failed");
	memset(&r, 0, sizeof(r));
	memset(&rei, 0, sizeof(rei));
	if (im->opt.kind == NODE_IMPORT_FILE) {
		rc = fwc_unixfs_importer_finish(im->ux, &ur);
		if (rc < 0)
			return fail(im, rc, NULL, ei);
		im->root = ur.root;
		im->have_root = 1;
		r.size = ur.size;
		memcpy(r.sha256, ur.sha256, sizeof(r.sha256));
		if (im->has_expect && memcmp(ur.sha256, im->expect, 32) != 0) {
			fwc_fail(&rei, 0, FWC_ERR_HASH_MISMATCH,
			         "the uploaded file's SHA-256 is not the expected one");
			return fail(im, FWC_ERR_HASH_MISMATCH, &rei, ei);
		}
	} else {
		rc = fwc_car_stream_finish(&im->car, &rei);
		if (rc < 0)
			return fail(im, rc, &rei, ei);
		if (!im->have_root) /* unreachable: a finished CAR stream had its header */
			return fail(im, FWC_ERR_STATE, NULL, ei);
	}
	if ((rc = writer_drain(im)) < 0) {
		im->sink_failed = 1;
		return fail(im, rc, NULL, ei);
	}
	/* Durable and visible at once; the session keeps the blocks from the GC until pinned. */
	rc = node_bs_stage_commit(im->stage, &rei);
	im->stage = NULL;
	if (rc < 0)
		return fail(im, rc, &rei, ei);
	rc = node_pins_add(im->pins, &im->root, im->origin, NULL, &rei);
	if (rc < 0)
		return fail(im, rc, &rei, ei);
	node_pins_session_end(im->pins, im->sess);
	im->sess = NULL;
	im->finished = 1;
	r.root = im->root;
	r.blocks = im->blocks;
	r.dag_bytes = im->bytes;
	if (res != NULL)
		*res = r;
	return FWC_OK;
}

void node_import_free(struct node_import *im)
{
	if (im == NULL)
		return;
	writer_stop(im); /* first: it puts into the stage */
	for (size_t i = 0; i < NODE_IMPORT_RING; i++)
		free(im->ring[i].data);
	node_bs_stage_abort(im->stage); /* an unfinished upload leaves nothing */
	if (im->sess != NULL)
		node_pins_session_end(im->pins, im->sess);
	fwc_unixfs_importer_free(im->ux);
	free(im->carbuf);
	free(im);
}
