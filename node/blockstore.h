/* fwchaind — the content block store: IPFS blocks under the node's data directory, written
 * whole or not at all, hash-checked before they are kept. A block put alone is one file; an
 * upload is staged into one pack file made durable and visible at once at its commit.
 *
 * Blocks are keyed by their SHA-256 digest (the CID's multihash digest), so the CIDv0 and CIDv1
 * of the same bytes, raw or dag-pb, name one stored file. Every function is thread-safe.
 * Layout, the measurement behind files-over-SQLite, atomicity and limits: docs/content-store.md. */
#ifndef FWC_NODE_BLOCKSTORE_H
#define FWC_NODE_BLOCKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "fwchain/cid.h"
#include "fwchain/err.h"

/* Largest block accepted by default: Kubo's largest chunk (1 MiB) plus room for a dag-pb
 * wrapper or a full interior node (1024 links of ~45 bytes). */
#define NODE_BS_DEFAULT_MAX_BLOCK (1024u * 1024u + 64u * 1024u)
/* Free space a put must leave on the file system by default. */
#define NODE_BS_DEFAULT_FLOOR (256ull * 1024u * 1024u)

/* Test hook: a put that writes a new block (node_bs_put, node_bs_stage_put) or a stage commit
 * stops dead at this point, leaving the files exactly as a crash there would (no cleanup), and
 * returns FWC_ERR_IO — the first crash_after such writes complete normally. After the crash
 * every write fails the same way (the process is "dead"). For a staged upload: AFTER_WRITE
 * fires in a stage put (half the record written), AFTER_SYNC and AFTER_LINK in the commit. */
enum node_bs_crash {
	NODE_BS_CRASH_NONE = 0,
	NODE_BS_CRASH_AFTER_WRITE, /* temp file (or part of a pack record) written, not synced */
	NODE_BS_CRASH_AFTER_SYNC,  /* temp file or pack synced, not linked/renamed into place */
	NODE_BS_CRASH_AFTER_LINK,  /* linked (renamed) into place; temp name not removed (pack:
	                              directory not synced, nothing indexed) */
};

struct node_bs_options {
	size_t max_block;         /* larger blocks are refused (FWC_ERR_TOO_LARGE) */
	uint64_t floor_bytes;     /* a put that would leave less free space is refused */
	int no_direct_io;         /* 1: uploads' packs are written through the page cache (tests
	                             that check exact pack layouts); default 0: O_DIRECT, falling
	                             back to buffered where the file system refuses it */
	enum node_bs_crash crash; /* tests only; NODE_BS_CRASH_NONE in production */
	uint64_t crash_after;     /* tests only: writes that complete before the crash arms */
};

struct node_bs_stats {
	uint64_t blocks;     /* blocks stored */
	uint64_t bytes;      /* sum of their lengths */
	uint64_t free_bytes; /* free space on the file system, for unprivileged writers */
};

/* Flags for node_bs_put. */
#define NODE_BS_DEFER_DIRSYNC 1u /* skip the directory fsync; the caller calls node_bs_sync */
/* The caller derived cid from these very bytes (an importer) or checked them against it (a
 * CAR reader, a replicator): skip hashing them again. */
#define NODE_BS_VERIFIED 2u

struct node_bs;

/* Defaults: NODE_BS_DEFAULT_MAX_BLOCK, NODE_BS_DEFAULT_FLOOR, no crash hook. */
void node_bs_options_default(struct node_bs_options *opt);

/* Open (creating when missing) the store in directory dir: dir/blocks/00..ff/, dir/packs/,
 * dir/tmp/ and a lock file dir/LOCK held for the store's lifetime, so a second process (or a
 * second open in this one) is refused with FWC_ERR_STATE. Removes every leftover temp file of
 * an interrupted put or upload, counts the blocks and indexes the packs (reading each record
 * header; a second copy of a block is retired, holes are punched over deleted records).
 * opt NULL = defaults. *out written only on success.
 * Errors (with a message in ei): FWC_ERR_IO, FWC_ERR_STATE, FWC_ERR_NOMEM, FWC_ERR_ARG. */
int node_bs_open(struct node_bs **out, const char *dir, const struct node_bs_options *opt,
                 struct fwc_errinfo *ei);

/* Release the lock and free; NULL is fine. Does not wait for anything: callers stop using the
 * store first. */
void node_bs_close(struct node_bs *bs);

/* Store data[0..len) as the block cid. The bytes are hashed and compared with the CID first
 * (unless flags has NODE_BS_VERIFIED);
 * then written to a temp file, fsync'd, hard-linked into place (atomic: the final name never
 * holds a partial block) and the directory fsync'd (unless flags has NODE_BS_DEFER_DIRSYNC).
 * A block already present is not rewritten (its modification time is refreshed, which the
 * garbage collector's grace period uses). Returns FWC_OK, FWC_ERR_HASH_MISMATCH,
 * FWC_ERR_TOO_LARGE (len > max_block), FWC_ERR_NOSPACE (the floor, or the disk is full),
 * FWC_ERR_IO, FWC_ERR_ARG. On any error nothing new is stored. */
int node_bs_put(struct node_bs *bs, const struct fwc_cid *cid, const uint8_t *data, size_t len,
                unsigned flags, struct fwc_errinfo *ei);

/* Make the directory entries of deferred puts durable (fsync every touched shard directory).
 * Returns FWC_OK or FWC_ERR_IO. */
int node_bs_sync(struct node_bs *bs, struct fwc_errinfo *ei);

/* 1 when the block is stored, 0 when not, FWC_ERR_IO. *len (optional) gets its length. */
int node_bs_has(struct node_bs *bs, const struct fwc_cid *cid, uint64_t *len);

/* Where the block's bytes are, as node_bs_open_fd would say, without opening anything: *off
 * (0 for a block file, the offset in its pack) and *len. FWC_OK, FWC_ERR_NOT_FOUND,
 * FWC_ERR_IO. */
int node_bs_locate(struct node_bs *bs, const struct fwc_cid *cid, uint64_t *off, uint64_t *len);

/* Read the block into buf[0..cap) and check its hash. Returns FWC_OK (*len set),
 * FWC_ERR_NOT_FOUND, FWC_ERR_BUFSIZE (*len still set to the size needed),
 * FWC_ERR_HASH_MISMATCH (the stored file is corrupt), FWC_ERR_IO. */
int node_bs_read(struct node_bs *bs, const struct fwc_cid *cid, uint8_t *buf, size_t cap,
                 size_t *len, struct fwc_errinfo *ei);

/* Like node_bs_read into a malloc'd buffer the caller frees. *out, *len written only on
 * success. */
int node_bs_get(struct node_bs *bs, const struct fwc_cid *cid, uint8_t **out, size_t *len,
                struct fwc_errinfo *ei);

/* Open the file holding the block for zero-copy serving: its *len bytes are at [*off, *off +
 * *len) of *fd (sendfile(2)/pread from *off; 0 for a block file, the record's data in a pack).
 * The caller owns and closes *fd (a pack is opened by name: the store keeps no descriptor
 * per pack, so thousands of uploads do not exhaust them). The bytes are NOT re-hashed here (they were when
 * stored; the client verifies them too). Returns FWC_OK, FWC_ERR_NOT_FOUND, FWC_ERR_IO. */
int node_bs_open_fd(struct node_bs *bs, const struct fwc_cid *cid, int *fd, uint64_t *off,
                    uint64_t *len);

/* Remove the block (its file, or its pack record: the record is flagged deleted and its space
 * comes back when the pack's last live block goes, or at node_bs_reclaim). FWC_OK,
 * FWC_ERR_NOT_FOUND or FWC_ERR_IO. Callers that collect garbage must make sure no writer is
 * putting the same block at the same time (node/pins.c does). */
int node_bs_delete(struct node_bs *bs, const struct fwc_cid *cid);
int node_bs_delete_digest(struct node_bs *bs, const uint8_t digest[FWC_CID_DIGEST_LEN]);

/* Give back the space of deleted records in packs that still hold live blocks: sync each such
 * pack (so the "deleted" flags are on disk first) and punch holes over the dead records'
 * bytes. For after a garbage collection. FWC_OK or the first error (FWC_ERR_IO). */
int node_bs_reclaim(struct node_bs *bs);

/* ---- staged uploads: many blocks, one pack, O(1) syncs ----
 * A stage collects the new blocks of one upload in a temp pack file, unsynced and invisible
 * (has/read/foreach do not see them). node_bs_stage_commit makes them durable and visible at
 * once: fdatasync the pack, rename it into dir/packs/, fsync that directory, index. A crash
 * before the rename leaves a temp file (deleted at the next open); after it, whole synced
 * blocks. One thread per stage; many stages may run at once. */
struct node_bs_stage;

/* Start a stage (creates its temp pack). *out written only on success. FWC_ERR_IO,
 * FWC_ERR_NOSPACE, FWC_ERR_NOMEM. */
int node_bs_stage_begin(struct node_bs *bs, struct node_bs_stage **out, struct fwc_errinfo *ei);

/* Append the block unless it is stored already (then only its time is refreshed, as
 * node_bs_put does) or already in this stage. The same checks and flags as node_bs_put
 * (NODE_BS_VERIFIED; NODE_BS_DEFER_DIRSYNC is meaningless here). After an I/O error the stage
 * is dead: later puts return FWC_ERR_STATE and commit fails; abort it. */
int node_bs_stage_put(struct node_bs_stage *st, const struct fwc_cid *cid, const uint8_t *data,
                      size_t len, unsigned flags, struct fwc_errinfo *ei);

/* Make the stage's blocks durable and visible (see above), then free the stage — on failure
 * too (nothing of it is then visible: its file is removed). FWC_OK, FWC_ERR_IO,
 * FWC_ERR_NOSPACE, FWC_ERR_NOMEM, FWC_ERR_STATE (a dead stage). */
int node_bs_stage_commit(struct node_bs_stage *st, struct fwc_errinfo *ei);

/* Drop the stage and its temp pack; none of its blocks becomes visible. NULL is fine. */
void node_bs_stage_abort(struct node_bs_stage *st);

/* Counters and free space. */
int node_bs_stats(struct node_bs *bs, struct node_bs_stats *st);

/* Call fn for every stored block (digest, length, modification time in Unix seconds), in no
 * particular order. fn may delete the block it is given. A negative return from fn stops the
 * walk and is returned. Blocks put or deleted meanwhile may or may not be seen. */
int node_bs_foreach(struct node_bs *bs,
                    int (*fn)(void *ctx, const uint8_t digest[FWC_CID_DIGEST_LEN], uint64_t len,
                              int64_t mtime),
                    void *ctx);

/* The store's limits (as opened). */
size_t node_bs_max_block(const struct node_bs *bs);

#endif
