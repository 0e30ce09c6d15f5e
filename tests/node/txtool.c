/* A helper for the node's shell tests, and its own self-test.
 *
 *   test_node_txtool make CHAIN_ID SEED_HEX NONCE [TYPE [PAYLOAD_TEXT]]
 *
 * writes to stdout a signed transaction (include/fwchain/tx.h) from the BIP-340 key whose
 * 32-byte secret is SEED_HEX, with time = now, so tests/cli/node_*.sh can submit real
 * transactions with curl. `sign-bad` does the same with one signature bit flipped. Run with no
 * argument (as ctest does) it checks that what it makes decodes, verifies and has the id
 * SHA-256(bytes) computed independently. */
#include "test.h"

#include <time.h>

#include "fwchain/hex.h"
#include "fwchain/sha256.h"
#include "fwchain/tx.h"

static int make(uint8_t *out, size_t cap, size_t *outlen, const char *chain, const char *seedhex,
                uint64_t nonce, uint32_t type, const char *payload)
{
	struct fwc_seckey sk;
	struct fwc_tx tx;
	uint8_t seed[32], body[FWC_TX_BODY_MAX];
	size_t n = 0, blen = 0;
	int rc;

	if (fwc_hex_decode(seed, sizeof(seed), &n, seedhex, strlen(seedhex)) != FWC_OK || n != 32)
		return FWC_ERR_ARG;
	rc = fwc_key_from_secret(&sk, FWC_ALG_BIP340, seed);
	if (rc != FWC_OK)
		return rc;
	memset(&tx, 0, sizeof(tx));
	tx.type = type;
	tx.chain_id.p = chain;
	tx.chain_id.len = strlen(chain);
	rc = fwc_key_public(&tx.sender, &sk);
	tx.nonce = nonce;
	tx.time = (uint64_t)time(NULL);
	tx.payload.p = (const uint8_t *)payload;
	tx.payload.len = strlen(payload);
	if (rc == FWC_OK)
		rc = fwc_tx_encode_body(body, sizeof(body), &blen, &tx, NULL);
	if (rc == FWC_OK)
		rc = fwc_tx_sign(out, cap, outlen, body, blen, &sk, NULL, NULL);
	fwc_seckey_wipe(&sk);
	return rc;
}

static void self_test(void)
{
	uint8_t buf[FWC_TX_MAX], id[32], want[32];
	size_t len = 0;
	struct fwc_signed_tx stx;

	CHECK_RC(make(buf, sizeof(buf), &len, "fwchain-dev-00000000",
	              "0101010101010101010101010101010101010101010101010101010101010101", 1, 2,
	              "hello"),
	         FWC_OK);
	CHECK_RC(fwc_tx_decode(&stx, buf, len, NULL), FWC_OK);
	CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_OK);
	CHECK(stx.tx.nonce == 1 && stx.tx.type == 2 && stx.tx.payload.len == 5);
	CHECK_RC(fwc_tx_id(id, buf, len), FWC_OK);
	CHECK_RC(fwc_sha256(want, buf, len), FWC_OK);
	CHECK_MEM(id, want, 32);
	buf[len - 1] ^= 1;
	CHECK_RC(fwc_tx_decode(&stx, buf, len, NULL), FWC_OK);
	CHECK_RC(fwc_tx_verify(&stx, NULL), FWC_ERR_BADSIG);
}

int main(int argc, char **argv)
{
	uint8_t buf[FWC_TX_MAX];
	size_t len = 0;

	if (argc == 1) {
		RUN(self_test);
		return test_done();
	}
	if (argc < 5 || (strcmp(argv[1], "make") != 0 && strcmp(argv[1], "sign-bad") != 0)) {
		fprintf(stderr,
		        "usage: %s make|sign-bad CHAIN_ID SEED_HEX NONCE [TYPE [PAYLOAD]]\n",
		        argv[0]);
		return 2;
	}
	if (make(buf, sizeof(buf), &len, argv[2], argv[3], strtoull(argv[4], NULL, 10),
	         argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : FWC_TX_MEMBER_ADD,
	         argc > 6 ? argv[6] : "") != FWC_OK) {
		fprintf(stderr, "txtool: cannot make the transaction\n");
		return 1;
	}
	if (strcmp(argv[1], "sign-bad") == 0)
		buf[len - 1] ^= 1; /* the signature is the last item of the encoding */
	return fwrite(buf, 1, len, stdout) == len ? 0 : 1;
}
