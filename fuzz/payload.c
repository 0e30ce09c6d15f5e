/* Fuzz target for lib/payload.c.
 *
 * The first input byte picks the transaction type (modulo the number of types), the rest is the
 * payload. Properties: a refusal always says why (a non-empty message); whatever decodes
 * re-encodes (the encoders accept everything the decoders accept), the re-encoding decodes, and
 * encoding that again gives the same bytes (ignored keys >= 64 are the only thing a re-encoding
 * may drop). The whole input is also tried as a device event and as a key-set statement, whose
 * signatures are then checked (must not crash), and as an event body alone, whose re-encoding
 * is a fixed point. */
#include "fwchain/payload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t out1[FWC_TX_PAYLOAD_MAX + 64], out2[FWC_TX_PAYLOAD_MAX + 64];

#define ROUND_TRIP(name, member)                                                                   \
	do {                                                                                       \
		struct fwc_pl_##name again;                                                        \
		size_t l1 = 0, l2 = 0;                                                             \
		if (fwc_pl_##name##_encode(out1, sizeof(out1), &l1, &pl.u.member) != FWC_OK)       \
			abort();                                                                   \
		if (fwc_pl_##name##_decode(&again, out1, l1, NULL) != FWC_OK)                      \
			abort();                                                                   \
		if (fwc_pl_##name##_encode(out2, sizeof(out2), &l2, &again) != FWC_OK ||           \
		    l1 != l2 || memcmp(out1, out2, l1) != 0)                                       \
			abort();                                                                   \
	} while (0)

static void round_trip(const struct fwc_payload *plp)
{
	/* A copy: the validator set is large, keep it off the small fuzzer stack frames. */
	static struct fwc_payload pl;

	pl = *plp;
	switch (pl.type) {
	case FWC_TX_ORG_REGISTER:
		ROUND_TRIP(org_register, org_register);
		break;
	case FWC_TX_MEMBER_ADD:
		ROUND_TRIP(member_add, member_add);
		break;
	case FWC_TX_MEMBER_REMOVE:
		ROUND_TRIP(member_remove, member_remove);
		break;
	case FWC_TX_KEYSET_REGISTER:
	case FWC_TX_KEYSET_ROTATE:
		ROUND_TRIP(keyset_statement, keyset_statement);
		break;
	case FWC_TX_KEY_REVOKE:
		ROUND_TRIP(key_revoke, key_revoke);
		break;
	case FWC_TX_PRODUCT_REGISTER:
		ROUND_TRIP(product_register, product_register);
		break;
	case FWC_TX_DEVICE_REGISTER:
		ROUND_TRIP(device_register, device_register);
		break;
	case FWC_TX_RELEASE:
		ROUND_TRIP(release, release);
		break;
	case FWC_TX_RELEASE_REVOKE:
		ROUND_TRIP(release_revoke, release_revoke);
		break;
	case FWC_TX_DEVICE_EVENT:
		ROUND_TRIP(device_event, device_event);
		break;
	case FWC_TX_CONFIG_UPDATE:
		ROUND_TRIP(config_update, config_update);
		break;
	case FWC_TX_LICENCE_ISSUE:
		ROUND_TRIP(licence_issue, licence_issue);
		break;
	case FWC_TX_LICENCE_REVOKE:
		ROUND_TRIP(licence_revoke, licence_revoke);
		break;
	case FWC_TX_ROLLOUT_CONTROL:
		ROUND_TRIP(rollout, rollout);
		break;
	case FWC_TX_POSTPONE:
		ROUND_TRIP(postpone, postpone);
		break;
	case FWC_TX_VALIDATOR_SET: {
		static struct fwc_pl_validator_set again;
		size_t l1 = 0, l2 = 0;

		if (fwc_pl_validator_set_encode(out1, sizeof(out1), &l1, &pl.u.validator_set) !=
		        FWC_OK ||
		    fwc_pl_validator_set_decode(&again, out1, l1, NULL) != FWC_OK ||
		    fwc_pl_validator_set_encode(out2, sizeof(out2), &l2, &again) != FWC_OK ||
		    l1 != l2 || memcmp(out1, out2, l1) != 0)
			abort();
		break;
	}
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fwc_payload pl;
	struct fwc_errinfo ei;
	struct fwc_event ev;
	struct fwc_rotation rot;

	if (size == 0)
		return 0;
	memset(&ei, 0, sizeof(ei));
	if (fwc_payload_decode(&pl, 1u + data[0] % FWC_TX_TYPE_MAX, data + 1, size - 1, &ei) ==
	    FWC_OK)
		round_trip(&pl);
	else if (ei.msg[0] == '\0')
		abort();

	memset(&ei, 0, sizeof(ei));
	if (fwc_event_decode(&ev, data, size, &ei) == FWC_OK) {
		int rc = fwc_event_verify(&ev);

		if (rc != FWC_OK && rc != FWC_ERR_BADSIG)
			abort();
	} else if (ei.msg[0] == '\0') {
		abort();
	}

	/* An event body alone (the self-reported device-event form): it re-encodes, and the
	 * re-encoding is a fixed point (only ignored keys >= 64 may be dropped). */
	memset(&ei, 0, sizeof(ei));
	if (fwc_event_body_decode(&ev, data, size, &ei) == FWC_OK) {
		struct fwc_event again;
		size_t l1 = 0, l2 = 0;

		if (fwc_event_body_encode(out1, sizeof(out1), &l1, &ev) != FWC_OK ||
		    fwc_event_body_decode(&again, out1, l1, NULL) != FWC_OK ||
		    fwc_event_body_encode(out2, sizeof(out2), &l2, &again) != FWC_OK || l1 != l2 ||
		    memcmp(out1, out2, l1) != 0 || l1 > size)
			abort();
	} else if (ei.msg[0] == '\0') {
		abort();
	}

	memset(&ei, 0, sizeof(ei));
	if (fwc_rotation_decode(&rot, data, size, &ei) == FWC_OK) {
		uint8_t digest[32];
		size_t l1 = 0;

		if (fwc_rotation_digest(digest, &rot) != FWC_OK)
			abort();
		if (fwc_rotation_encode(out1, sizeof(out1), &l1, &rot, rot.sigs, rot.n_sigs) !=
		    FWC_OK)
			abort();
	} else if (ei.msg[0] == '\0') {
		abort();
	}
	return 0;
}
