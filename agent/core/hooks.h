/* fwagent core — the steps that depend on the ledger formats (proof bundle, device event
 * encoding). They are hooks with fixed contracts so the state machine around them is complete
 * and tested now; their bodies land with the formats. Internal to the core. */
#ifndef FWAGENT_CORE_HOOKS_H
#define FWAGENT_CORE_HOOKS_H

#include "fwagent/agent.h"

/* CHECKIN: POST a check-in (device id, installed counter, newest accepted checkpoint) to a
 * node, receive the proof bundle, and verify it completely: checkpoint cosignatures from a
 * quorum of the trusted validator set, checkpoint not older than the record's, inclusion proof
 * of the release transaction, release-key threshold over the manifest, product and hardware
 * match, counter above the floor. On FWC_OK ctx->offer holds the verified offer (with the
 * per-chunk digests from the verified DAG root) and the new checkpoint is ready to be recorded.
 * Until the formats exist: returns FWC_ERR_UNSUPPORTED and leaves ctx->offer untouched. */
int fwc_agent_hook_checkin(struct fwc_agent *ctx);

/* DECIDE: local policy over a verified offer (rollout wave, maintenance window, licence,
 * postponement). FWC_OK to install now. Until the formats exist: FWC_ERR_UNSUPPORTED. */
int fwc_agent_hook_decide(struct fwc_agent *ctx);

/* REPORT: encode each queued event as a device-event transaction, sign it with the device key
 * (fwc_port_device_sign over its tagged hash), POST it, and on acknowledgement remove it from
 * the record in one commit. Until the formats exist: FWC_ERR_UNSUPPORTED, events stay queued. */
int fwc_agent_hook_report(struct fwc_agent *ctx);

#endif
