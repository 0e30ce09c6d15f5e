/* fwchaind — the IPFS trustless/path gateway's responses for GET and HEAD /ipfs/{cid}, planned
 * independently of the HTTP server.
 *
 * node_gw_plan() turns a request (CID text, ?format=, ?dag-scope=, ?filename=, Accept, Range)
 * into a complete answer before a byte is sent: status, headers, and the body as a list of
 * segments — literal bytes (CAR framing) or byte ranges of stored block files. A UnixFS file
 * is therefore served straight from its leaf blocks (a raw leaf is a whole file, a dag-pb leaf
 * an offset inside one), so the transport can sendfile(2) each segment, and a Range request
 * only cuts the segment list. Missing blocks are found while planning (404 naming the block),
 * never halfway through a response. Formats: plain file bytes (Range: 206/416), raw block
 * (application/vnd.ipld.raw), CARv1 (application/vnd.ipld.car, dag-scope all/entity/block,
 * entity-bytes, depth-first order, no duplicates). */
#ifndef FWC_NODE_GATEWAY_H
#define FWC_NODE_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "blockstore.h"
#include "fwchain/cid.h"
#include "fwchain/err.h"

#define NODE_GW_FILENAME_MAX 255 /* longer ?filename= is a 400 */
#define NODE_GW_ETAG_MAX (FWC_CID_STR_MAX + 16)
/* Cache-Control of every successful answer: content addressed, so it never changes. */
#define NODE_GW_CACHE_CONTROL "public, max-age=29030400, immutable"

enum node_gw_format {
	NODE_GW_FILE = 1, /* the UnixFS file's bytes */
	NODE_GW_RAW = 2,  /* the root block */
	NODE_GW_CAR = 3,  /* a CARv1 of the DAG (per dag-scope) */
};

struct node_gw_request {
	const char *cid;          /* the {cid} path segment (required) */
	const char *format;       /* ?format=, or NULL */
	const char *dag_scope;    /* ?dag-scope=, or NULL */
	const char *filename;     /* ?filename=, or NULL */
	const char *accept;       /* Accept header, or NULL */
	const char *range;        /* Range header, or NULL */
	const char *entity_bytes; /* ?entity-bytes=from:to (CAR only), or NULL */
};

/* One piece of the body: literal bytes of the plan (digest unused) or bytes [off, off+len)
 * of the stored block with this digest. */
struct node_gw_segment {
	int literal;
	uint8_t digest[FWC_CID_DIGEST_LEN];
	uint64_t off;
	uint64_t len;
	uint64_t start; /* offset of this segment in the body */
};

struct node_gw_plan {
	unsigned status; /* 200, 206, 400, 404, 416, 500, 501 */
	enum node_gw_format format;
	char error_code[32]; /* for status >= 400: a short code, e.g. "not_found" */
	char error_msg[200]; /* and a one-line reason */
	char content_type[64];
	char etag[NODE_GW_ETAG_MAX]; /* quoted, strong */
	char content_disposition[3 * NODE_GW_FILENAME_MAX + 80];
	char content_range[80];              /* for 206 and 416 */
	int accept_ranges;                   /* send "Accept-Ranges: bytes" */
	int nosniff;                         /* send "X-Content-Type-Options: nosniff" */
	char ipfs_path[FWC_CID_STR_MAX + 8]; /* X-Ipfs-Path */
	uint64_t length;                     /* body length (Content-Length) */
	uint64_t total;                      /* FILE/RAW: full size (the "/N" of Content-Range) */
	struct node_gw_segment *segs;
	size_t nsegs, capsegs;
	uint8_t *lit; /* literal bytes */
	size_t litlen, litcap;
	int fd;           /* cached open block file (or pack) for node_gw_read */
	uint64_t fd_base; /* where the block's bytes start in it */
	uint8_t fd_digest[FWC_CID_DIGEST_LEN];
};

/* Plan the answer to GET /ipfs/{cid} (HEAD: the same plan, without sending the body). Always
 * fills *plan (release with node_gw_plan_cleanup), including for errors, which have their
 * status, error_code and error_msg set and no body; the caller renders them (JSON). Returns
 * FWC_OK when plan->status is 2xx, else a negative code matching the status. */
int node_gw_plan(struct node_gw_plan *plan, struct node_bs *bs, const struct node_gw_request *req);

/* Copy up to max body bytes starting at body offset pos into buf (literal bytes, or pread from
 * the block files, opened one at a time and cached). Returns the count (0 at the end), or -1
 * on an I/O error or a block that vanished. For transports without sendfile; others send
 * each segment's file range directly (node_bs_open_fd + offset). */
ssize_t node_gw_read(struct node_gw_plan *plan, struct node_bs *bs, uint64_t pos, uint8_t *buf,
                     size_t max);

void node_gw_plan_cleanup(struct node_gw_plan *plan);

#endif
