/* `fwagent sim`: a fleet of virtual devices in one process, against a real node.
 *
 *   fwagent sim --devices N --node URL --trust FILE --hw ID [options]
 *
 * Each device has its own BIP-340 key (derived from --seed and its index, so a provisioning
 * run and a later simulation agree on the keys without storing them), its own state record
 * and its own two slots; it runs the product core through the POSIX port, exactly as
 * `fwagent check` does, with the port's memory backend (port_mem.c) instead of files.
 *
 * Main design choice: devices run one after the other, each a whole cycle (power on, check in,
 * and when there is an update download, verify, install, reboot, trial boot, confirm, report),
 * from one thread. The core binds its crypto backend to one port at a time per process
 * (agent/core/crypto.c), and a device in flight costs its slot buffers, so the number of
 * devices in flight is one per process; scale comes from running several simulator processes
 * on disjoint index ranges (--first). Slots are copy-on-write over shared images: after its
 * cycle a device's own slot buffers are compared with the shared images (the factory image and
 * every image a device has installed) and replaced by them when equal, so 10,000 devices that
 * installed the same 1 MiB release keep one copy of it, not 20 GB of slots; the agent core
 * still writes every byte into a real buffer and reads it back for its hash checks.
 *
 * --provision registers the devices first: one DEVICE_REGISTER transaction per device, signed
 * by the operator's keystore and POSTed to the node's public API (/v1/txs) with consecutive
 * nonces, a window of them in flight; then waits until the last one is committed. */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwchain/hex.h"
#include "fwchain/keystore.h"
#include "fwchain/payload.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"
#include "port_posix.h"
#include "tool.h"

int sim_main(int argc, char **argv);

#define MAX_IMAGES 16
#define PROVISION_WINDOW 2000 /* registrations in flight (the node's mempool takes 10000) */
#define HTTP_TIMEOUT_S 30L

struct sim_dev {
	struct fwc_port port;
	struct fwc_posix_mem mem;
	uint8_t pub[32];
	uint64_t counter0; /* active counter before the run */
	int outcome;       /* enum below, of the last cycle */
};

enum { OUT_NONE, OUT_UPDATED, OUT_CURRENT, OUT_FAILED, OUT_UNREPORTED };

static struct fwc_agent agent;
static struct tool_trust trust;
static struct fwc_posix_image images[MAX_IMAGES];
static size_t n_images;
static CURL *curl;

struct opts {
	unsigned long devices, first, cycles, readahead;
	unsigned long long slot_size, floor, expect, wait_ledger, since;
	bool have_since;
	const char *node, *gateway, *trust, *product, *hw, *channel, *seed, *factory, *keys_out,
	    *operator_key, *passfile, *between;
	bool provision, no_clock, trace;
};

static const char sim_help[] =
    "usage: fwagent sim --devices N --node URL --trust FILE --hw ID [options]\n"
    "  --product ID          the product (default: the trust file's only one)\n"
    "  --channel NAME        release channel (default stable)\n"
    "  --gateway URL         content gateway (default: the node)\n"
    "  --slot-size BYTES     size of each of the two slots (default 1048576)\n"
    "  --factory IMAGE       image every device starts with in slot A (default: none)\n"
    "  --floor N             factory release-counter floor (default 0)\n"
    "  --seed TEXT           device keys are SHA-256(\"fwagent-sim/v1\" seed \":\" index)\n"
    "                        (default \"fwagent-sim\")\n"
    "  --first I             index of the first device (default 0): split a fleet over\n"
    "                        several processes\n"
    "  --cycles K            cycles over the whole fleet (default 1; 0: only --provision\n"
    "                        and --wait-ledger)\n"
    "  --between CMD         run the shell command CMD between two cycles (e.g. publish a\n"
    "                        release); a failing CMD ends the run (exit 1)\n"
    "  --readahead BYTES     download window per request (default 262144; 0: 4 KiB blocks)\n"
    "  --keys FILE           write 'index bip340:KEY' lines for the devices\n"
    "  --provision           register the devices first (DEVICE_REGISTER transactions)\n"
    "  --operator KEYSTORE   the operator key that signs them (passphrase: --passphrase-file\n"
    "                        or $FWCHAIN_PASSPHRASE)\n"
    "  --expect COUNTER      exit 1 unless every device runs this release counter at the end\n"
    "                        and has reported its events\n"
    "  --wait-ledger S       then wait up to S seconds until the node lists a 'confirmed'\n"
    "                        event of every device, and print the time to the last one\n"
    "  --since UNIXTIME      count only events in blocks from then (default: 5 s before the\n"
    "                        first cycle; with --cycles 0, all)\n"
    "  --no-clock            devices without a wall clock\n"
    "  --trace               print every device's states\n";

/* ---- small HTTP client for the node's JSON API -------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static size_t on_data(char *d, size_t size, size_t n, void *u)
{
	struct buf *b = u;
	size_t add = size * n;

	if (b->len + add + 1 > b->cap) {
		size_t cap = (b->len + add + 1) * 2;
		char *p = realloc(b->p, cap);

		if (p == NULL || cap > (64u << 20))
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* GET (body NULL) or POST url; returns the HTTP status (-1: no answer); *out the body. */
static long http_do(struct buf *out, const char *url, const uint8_t *body, size_t len)
{
	long status = -1;
	struct curl_slist *h = NULL;

	out->len = 0;
	if (out->p != NULL)
		out->p[0] = '\0';
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	if (body != NULL) {
		h = curl_slist_append(NULL, "Content-Type: application/cbor");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_reset(curl);
	curl_slist_free_all(h);
	return status;
}

static json_t *get_json(struct buf *b, const char *url)
{
	if (http_do(b, url, NULL, 0) != 200 || b->p == NULL)
		return NULL;
	return json_loads(b->p, 0, NULL);
}

/* ---- devices ------------------------------------------------------------------------------ */

static int device_secret(uint8_t secret[32], const char *seed, unsigned long index)
{
	char text[300];
	int n = snprintf(text, sizeof(text), "fwagent-sim/v1%s:%lu", seed, index);

	if (n < 0 || (size_t)n >= sizeof(text))
		return FWC_ERR_ARG;
	return fwc_sha256(secret, text, (size_t)n);
}

static void pub_text(char out[80], const uint8_t pub[32])
{
	memcpy(out, "bip340:", 7);
	fwc_hex_encode(out + 7, 65, pub, 32);
}

/* Keep the device's own slot buffers only where they differ from every shared image; a new
 * installed image becomes shared itself (the first device to install a release pays for one
 * copy of it). */
static void device_compact(struct sim_dev *d, uint64_t slot_size)
{
	if (fwc_posix_mem_share(&d->mem, slot_size, images, n_images) == 0)
		return;
	for (int s = 0; s < 2 && n_images < MAX_IMAGES; s++) {
		const uint8_t *b = d->mem.own[s];
		size_t len = (size_t)slot_size;
		uint8_t *copy;

		if (b == NULL)
			continue;
		while (len > 0 && b[len - 1] == 0xFF)
			len--;
		if ((copy = malloc(len ? len : 1)) == NULL)
			return;
		memcpy(copy, b, len);
		images[n_images].data = copy;
		images[n_images].len = len;
		n_images++;
		fwc_posix_mem_share(&d->mem, slot_size, images, n_images);
	}
}

/* ---- provisioning ------------------------------------------------------------------------- */

static int provision(const struct opts *o, struct sim_dev *devs, const char *chain)
{
	static uint8_t payload[FWC_TX_PAYLOAD_MAX], body[FWC_TX_BODY_MAX], stx[FWC_TX_MAX];
	struct fwc_errinfo ei = {0, ""};
	struct fwc_seckey sk;
	struct fwc_tx tx;
	struct buf b = {0};
	char url[600], optext[80], pass[256];
	const char *env = getenv("FWCHAIN_PASSPHRASE");
	unsigned long long nonce0 = 0, last;
	size_t plen = 0;
	double t0 = tool_now();
	json_t *j;
	int rc = -1;

	if (o->passfile != NULL) {
		FILE *f = fopen(o->passfile, "rb");

		if (f == NULL) {
			fprintf(stderr, "sim: %s: cannot open\n", o->passfile);
			return -1;
		}
		plen = fread(pass, 1, sizeof(pass) - 1, f);
		fclose(f);
		while (plen > 0 && (pass[plen - 1] == '\n' || pass[plen - 1] == '\r'))
			plen--;
	} else if (env != NULL && strlen(env) < sizeof(pass)) {
		plen = strlen(env);
		memcpy(pass, env, plen);
	} else {
		fprintf(stderr,
		        "sim: --provision needs --passphrase-file or $FWCHAIN_PASSPHRASE\n");
		return -1;
	}
	rc = fwc_keystore_load(&sk, o->operator_key, pass, plen, &ei);
	fwc_wipe(pass, sizeof(pass));
	if (rc < 0) {
		fprintf(stderr, "sim: %s: %s: %s\n", o->operator_key, fwc_strerror(rc), ei.msg);
		return -1;
	}
	rc = -1;
	memset(&tx, 0, sizeof(tx));
	if (fwc_key_public(&tx.sender, &sk) < 0 ||
	    fwc_pubkey_to_text(optext, sizeof(optext), &tx.sender) < 0)
		goto out;
	snprintf(url, sizeof(url), "%s/v1/accounts/%s", o->node, optext);
	if ((j = get_json(&b, url)) == NULL) {
		fprintf(stderr, "sim: %s: no answer\n", url);
		goto out;
	}
	nonce0 = (unsigned long long)json_integer_value(json_object_get(j, "next_nonce"));
	json_decref(j);
	if (nonce0 == 0)
		goto out;
	tx.type = FWC_TX_DEVICE_REGISTER;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	snprintf(url, sizeof(url), "%s/v1/txs", o->node);
	for (unsigned long i = 0; i < o->devices; i++) {
		struct fwc_pl_device_register pl;
		size_t n = 0, blen = 0, slen = 0;
		long st;

		memset(&pl, 0, sizeof(pl));
		pl.device.alg = FWC_ALG_BIP340;
		memcpy(pl.device.key, devs[i].pub, 32);
		pl.product.p = o->product;
		pl.product.len = strlen(o->product);
		pl.hwid.p = o->hw;
		pl.hwid.len = strlen(o->hw);
		tx.nonce = nonce0 + i;
		tx.time = (uint64_t)time(NULL);
		if (fwc_pl_device_register_encode(payload, sizeof(payload), &n, &pl) < 0)
			goto out;
		tx.payload.p = payload;
		tx.payload.len = n;
		if (fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL) < 0 ||
		    fwc_tx_sign(stx, sizeof(stx), &slen, body, blen, &sk, NULL, NULL) < 0)
			goto out;
		/* a full mempool is back-pressure: wait and send the same bytes again */
		for (int tries = 0; tries < 600; tries++) {
			st = http_do(&b, url, stx, slen);
			if (st != 503)
				break;
			usleep(100000);
		}
		if (st != 202 && st != 409) {
			fprintf(stderr, "sim: registering device %lu: HTTP %ld %s\n", o->first + i,
			        st, b.p ? b.p : "");
			goto out;
		}
		/* keep at most a window of registrations in flight */
		if ((i + 1) % PROVISION_WINDOW == 0) {
			char aurl[600];

			snprintf(aurl, sizeof(aurl), "%s/v1/accounts/%s", o->node, optext);
			for (int w = 0; w < 1200; w++) {
				unsigned long long done = 0;

				if ((j = get_json(&b, aurl)) != NULL) {
					done = (unsigned long long)json_integer_value(
					    json_object_get(j, "last_committed_nonce"));
					json_decref(j);
				}
				if (done + PROVISION_WINDOW / 2 >= nonce0 + i)
					break;
				usleep(100000);
			}
		}
	}
	last = nonce0 + o->devices - 1;
	snprintf(url, sizeof(url), "%s/v1/accounts/%s", o->node, optext);
	for (int w = 0; w < 1200; w++) { /* at most 120 s */
		unsigned long long done = 0;

		if ((j = get_json(&b, url)) != NULL) {
			done = (unsigned long long)json_integer_value(
			    json_object_get(j, "last_committed_nonce"));
			json_decref(j);
		}
		if (done >= last) {
			rc = 0;
			break;
		}
		usleep(100000);
	}
	if (rc == 0)
		printf("provision: %lu devices registered by %s (nonces %llu..%llu) in %.2f s\n",
		       o->devices, optext, nonce0, last, tool_now() - t0);
	else
		fprintf(stderr, "sim: registrations not committed within 120 s\n");
out:
	fwc_seckey_wipe(&sk);
	free(b.p);
	return rc;
}

/* ---- the ledger's view: confirmed events of every device ---------------------------------- */

static int cmp_pub(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int ledger_wait(const struct opts *o, const struct sim_dev *devs, double t0, long long from)
{
	uint8_t(*want)[32] = malloc(o->devices * 32);
	bool *seen = calloc(o->devices, 1);
	unsigned long found = 0;
	struct buf b = {0};
	double deadline = tool_now() + (double)o->wait_ledger;
	int rc = -1;

	if (want == NULL || seen == NULL)
		goto out;
	for (unsigned long i = 0; i < o->devices; i++)
		memcpy(want[i], devs[i].pub, 32);
	qsort(want, o->devices, 32, cmp_pub);
	while (found < o->devices) {
		char url[1200], cursor[300] = "";
		json_t *j;

		/* one walk over the product's confirmed events since the run started */
		for (int page = 0; page < 100000; page++) {
			json_t *items, *next;
			size_t k;

			snprintf(url, sizeof(url),
			         "%s/v1/events?product=%s&kind=confirmed&from=%lld&limit=1000%s%s",
			         o->node, o->product, from, cursor[0] ? "&cursor=" : "", cursor);
			if ((j = get_json(&b, url)) == NULL)
				break;
			items = json_object_get(j, "items");
			for (k = 0; k < json_array_size(items); k++) {
				const json_t *ev = json_array_get(items, k);
				const char *dev = json_string_value(json_object_get(ev, "device"));
				uint8_t pub[32], (*hit)[32];
				size_t got = 0;

				if (o->expect != 0 && json_integer_value(json_object_get(
				                          ev, "counter")) != (json_int_t)o->expect)
					continue;
				if (dev == NULL || strncmp(dev, "bip340:", 7) != 0 ||
				    fwc_hex_decode(pub, 32, &got, dev + 7, strlen(dev + 7)) < 0 ||
				    got != 32)
					continue;
				hit = bsearch(pub, want, o->devices, 32, cmp_pub);
				if (hit != NULL && !seen[hit - want]) {
					seen[hit - want] = true;
					found++;
				}
			}
			next = json_object_get(j, "next");
			if (!json_is_string(next) ||
			    strlen(json_string_value(next)) >= sizeof(cursor)) {
				json_decref(j);
				break;
			}
			/* the cursor is opaque text; escape what a URL cannot carry as is */
			{
				char *e = curl_easy_escape(curl, json_string_value(next), 0);

				snprintf(cursor, sizeof(cursor), "%s", e ? e : "");
				curl_free(e);
			}
			json_decref(j);
		}
		if (found >= o->devices || tool_now() > deadline)
			break;
		usleep(200000);
	}
	printf("ledger: %lu/%lu devices have a confirmed event%s on the ledger, %.2f s after the "
	       "start\n",
	       found, o->devices, o->expect ? " of that counter" : "", tool_now() - t0);
	rc = found == o->devices ? 0 : -1;
out:
	free(want);
	free(seen);
	free(b.p);
	return rc;
}

/* ---- main --------------------------------------------------------------------------------- */

static int parse(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->cycles = 1;
	o->slot_size = 1048576;
	o->readahead = 262144;
	o->channel = "stable";
	o->seed = "fwagent-sim";
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0) {
			fputs(sim_help, stdout);
			exit(0);
		} else if (strcmp(a, "--provision") == 0) {
			o->provision = true;
			continue;
		} else if (strcmp(a, "--no-clock") == 0) {
			o->no_clock = true;
			continue;
		} else if (strcmp(a, "--trace") == 0) {
			o->trace = true;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(a, "--devices") == 0)
			o->devices = strtoul(v, NULL, 10);
		else if (strcmp(a, "--first") == 0)
			o->first = strtoul(v, NULL, 10);
		else if (strcmp(a, "--cycles") == 0)
			o->cycles = strtoul(v, NULL, 10);
		else if (strcmp(a, "--readahead") == 0)
			o->readahead = strtoul(v, NULL, 10);
		else if (strcmp(a, "--slot-size") == 0)
			o->slot_size = strtoull(v, NULL, 10);
		else if (strcmp(a, "--floor") == 0)
			o->floor = strtoull(v, NULL, 10);
		else if (strcmp(a, "--expect") == 0)
			o->expect = strtoull(v, NULL, 10);
		else if (strcmp(a, "--wait-ledger") == 0)
			o->wait_ledger = strtoull(v, NULL, 10);
		else if (strcmp(a, "--since") == 0) {
			o->since = strtoull(v, NULL, 10);
			o->have_since = true;
		} else if (strcmp(a, "--node") == 0)
			o->node = v;
		else if (strcmp(a, "--gateway") == 0)
			o->gateway = v;
		else if (strcmp(a, "--trust") == 0)
			o->trust = v;
		else if (strcmp(a, "--product") == 0)
			o->product = v;
		else if (strcmp(a, "--hw") == 0)
			o->hw = v;
		else if (strcmp(a, "--channel") == 0)
			o->channel = v;
		else if (strcmp(a, "--seed") == 0)
			o->seed = v;
		else if (strcmp(a, "--factory") == 0)
			o->factory = v;
		else if (strcmp(a, "--keys") == 0)
			o->keys_out = v;
		else if (strcmp(a, "--operator") == 0)
			o->operator_key = v;
		else if (strcmp(a, "--passphrase-file") == 0)
			o->passfile = v;
		else if (strcmp(a, "--between") == 0)
			o->between = v;
		else
			return -1;
	}
	if (o->devices == 0 || o->devices > 200000 || o->node == NULL || o->trust == NULL ||
	    o->hw == NULL || o->slot_size == 0 || o->slot_size % 4096 != 0 ||
	    (o->provision && o->operator_key == NULL))
		return -1;
	return 0;
}

int sim_main(int argc, char **argv)
{
	struct fwc_agent_provision prov = {0};
	struct sim_dev *devs = NULL;
	struct opts o;
	struct buf b = {0};
	char err[400], chain[128] = "";
	unsigned long counts[5];
	double t0, cycle_t0;
	time_t wall0;
	int rc = 1;

	if (parse(&o, argc, argv) < 0) {
		fputs(sim_help, stderr);
		return 2;
	}
	if (tool_trust_load(&trust, &prov, o.trust, o.product, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "fwagent sim: %s\n", err);
		return 1;
	}
	if (o.product == NULL) {
		static char product[80];

		snprintf(product, sizeof(product), "%.*s", (int)prov.id.product_len,
		         prov.id.product);
		o.product = product;
	}
	prov.factory_floor = o.floor;
	prov.node_url = o.node;
	prov.node_url_len = strlen(o.node);
	if (o.gateway != NULL) {
		prov.gateway_url = o.gateway;
		prov.gateway_url_len = strlen(o.gateway);
	}
	prov.id.hwid = o.hw;
	prov.id.hwid_len = strlen(o.hw);
	prov.id.channel = o.channel;
	prov.id.channel_len = strlen(o.channel);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (curl = curl_easy_init()) == NULL)
		return 1;

	if (o.factory != NULL) {
		FILE *f = fopen(o.factory, "rb");
		uint8_t *img = malloc((size_t)o.slot_size + 1);
		size_t n;

		if (f == NULL || img == NULL) {
			fprintf(stderr, "fwagent sim: %s: cannot read\n", o.factory);
			if (f)
				fclose(f);
			free(img);
			goto out;
		}
		n = fread(img, 1, (size_t)o.slot_size + 1, f);
		fclose(f);
		if (n > o.slot_size) {
			fprintf(stderr, "fwagent sim: %s: larger than a slot\n", o.factory);
			free(img);
			goto out;
		}
		images[0].data = img;
		images[0].len = n;
		n_images = 1;
	}
	if ((devs = calloc(o.devices, sizeof(*devs))) == NULL)
		goto out;
	for (unsigned long i = 0; i < o.devices; i++) {
		struct sim_dev *d = &devs[i];
		uint8_t secret[32];
		char label[64];

		snprintf(label, sizeof(label), "sim/%lu", o.first + i);
		if (fwc_posix_mem_open(&d->port, &d->mem, label, o.slot_size, 4096) < 0 ||
		    device_secret(secret, o.seed, o.first + i) < 0 ||
		    fwc_posix_set_key(&d->port, secret) < 0) {
			fprintf(stderr, "fwagent sim: device %lu: cannot set up\n", o.first + i);
			goto out;
		}
		fwc_wipe(secret, sizeof(secret));
		memcpy(d->pub, d->port.device_pub, 32);
		d->port.sync = false;
		d->port.no_clock = o.no_clock;
		d->port.readahead = o.readahead;
		d->port.curl_ready = true;
		if (n_images > 0)
			d->mem.shared[0] = &images[0];
	}
	if (o.keys_out != NULL) {
		FILE *f = fopen(o.keys_out, "w");

		if (f == NULL) {
			fprintf(stderr, "fwagent sim: %s: cannot write\n", o.keys_out);
			goto out;
		}
		for (unsigned long i = 0; i < o.devices; i++) {
			char t[80];

			pub_text(t, devs[i].pub);
			fprintf(f, "%lu %s\n", o.first + i, t);
		}
		fclose(f);
	}
	printf("sim: %lu devices (%lu..%lu), product %s, hardware %s, channel %s, slots 2 x %llu "
	       "bytes\n",
	       o.devices, o.first, o.first + o.devices - 1, o.product, o.hw, o.channel,
	       o.slot_size);
	fflush(stdout);
	if (o.provision) {
		char url[600];
		json_t *j;

		snprintf(url, sizeof(url), "%s/v1/health", o.node);
		if ((j = get_json(&b, url)) == NULL ||
		    !json_is_string(json_object_get(j, "chain_id"))) {
			fprintf(stderr, "fwagent sim: %s: no chain id\n", url);
			json_decref(j);
			goto out;
		}
		snprintf(chain, sizeof(chain), "%s",
		         json_string_value(json_object_get(j, "chain_id")));
		json_decref(j);
		if (provision(&o, devs, chain) < 0)
			goto out;
		fflush(stdout);
	}

	t0 = tool_now();
	wall0 = time(NULL);
	for (unsigned long c = 0; c < o.cycles; c++) {
		uint64_t bytes = 0;
		long requests = 0;

		if (c > 0 && o.between != NULL) {
			int st = system(o.between);

			if (st != 0) {
				fprintf(stderr, "fwagent sim: --between command failed (%d)\n", st);
				goto out;
			}
		}
		memset(counts, 0, sizeof(counts));
		cycle_t0 = tool_now();
		for (unsigned long i = 0; i < o.devices; i++) {
			struct sim_dev *d = &devs[i];
			struct tool_cycle cy;
			bool powered = false;
			const struct fwc_agent_record *r;
			uint64_t before_counter;
			uint32_t before_seq;

			d->port.curl = curl;
			d->port.curl_shared = true;
			d->port.http_requests = 0;
			d->port.http_bytes = 0;
			/* the record before the cycle, as the boot loader would read it */
			fwc_agent_store_load(&agent.store, &d->port, 0);
			before_counter = agent.store.cur.active.counter;
			before_seq = agent.store.cur.next_event_seq;
			if (c == 0)
				d->counter0 = before_counter;
			if (o.trace)
				printf("device %lu:\n", o.first + i);
			tool_cycle_run(&cy, &agent, &powered, &d->port, &prov, o.trace ? 1 : 0);
			r = fwc_agent_record(&agent);
			if (!cy.settled)
				d->outcome = OUT_FAILED;
			else if (r->active.counter > before_counter)
				d->outcome = OUT_UPDATED;
			else if (r->next_event_seq != before_seq)
				d->outcome = OUT_FAILED;
			else
				d->outcome = OUT_CURRENT;
			if (cy.settled && r->event_count > 0)
				d->outcome =
				    d->outcome == OUT_UPDATED ? OUT_UNREPORTED : d->outcome;
			counts[d->outcome]++;
			if (d->outcome == OUT_FAILED || d->outcome == OUT_UNREPORTED)
				fprintf(stderr,
				        "sim: device %lu: %s (last error: %s, %u events queued)\n",
				        o.first + i,
				        d->outcome == OUT_FAILED ? "failed" : "events not reported",
				        fwc_strerror(cy.last_err), r->event_count);
			requests += d->port.http_requests;
			bytes += d->port.http_bytes;
			fwc_posix_http_close(
			    &d->port); /* drops the read-ahead window, not the handle */
			device_compact(d, o.slot_size);
		}
		printf("cycle %lu: %lu updated, %lu up to date, %lu failed, %lu with unreported "
		       "events; %ld requests, %.1f MiB received, %.2f s\n",
		       c + 1, counts[OUT_UPDATED], counts[OUT_CURRENT], counts[OUT_FAILED],
		       counts[OUT_UNREPORTED], requests, (double)bytes / 1048576.0,
		       tool_now() - cycle_t0);
		fflush(stdout);
	}
	rc = 0;
	if (o.expect != 0 && o.cycles > 0) {
		unsigned long ok = 0;

		for (unsigned long i = 0; i < o.devices; i++) {
			fwc_agent_store_load(&agent.store, &devs[i].port, 0);
			if (agent.store.cur.active.counter == o.expect &&
			    agent.store.cur.event_count == 0)
				ok++;
		}
		printf("result: %lu/%lu devices run counter %llu with their events reported\n", ok,
		       o.devices, o.expect);
		if (ok != o.devices)
			rc = 1;
	}
	if (o.wait_ledger != 0 && ledger_wait(&o, devs, t0,
	                                      o.have_since   ? (long long)o.since
	                                      : o.cycles > 0 ? (long long)wall0 - 5
	                                                     : 0) < 0)
		rc = 1;
	{
		size_t own = 0;

		for (unsigned long i = 0; i < o.devices; i++)
			own += (devs[i].mem.own[0] != NULL) + (devs[i].mem.own[1] != NULL);
		printf("memory: %zu shared images, %zu device-owned slot buffers\n", n_images, own);
	}
out:
	if (devs != NULL) {
		for (unsigned long i = 0; i < o.devices; i++) {
			devs[i].port.curl = NULL;
			fwc_posix_close(&devs[i].port);
			fwc_posix_mem_release(&devs[i].mem);
		}
		free(devs);
	}
	for (size_t i = 0; i < n_images; i++)
		free((void *)images[i].data);
	free(b.p);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return rc;
}
