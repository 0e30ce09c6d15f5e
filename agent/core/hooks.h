/* fwagent core — the steps that talk to the ledger (check-in, decision, report) and the record
 * helpers they share with the state machine. Internal to the core.
 *
 * checkin.c implements CHECKIN and DECIDE, report.c implements REPORT; agent.c runs them from
 * the state machine and implements the two record helpers below. */
#ifndef FWAGENT_CORE_HOOKS_H
#define FWAGENT_CORE_HOOKS_H

#include "fwagent/agent.h"

/* CHECKIN: ask the provisioned node for the newest release (docs/agent.md, "Check-in"), verify
 * the proof bundle completely (fwc_agent_verify_bundle) and build the offer: ctx->offer with
 * the signed size and SHA-256 and one signed digest per chunk (from the verified UnixFS root),
 * ctx->verified with the release and its checkpoint, ctx->have_verified = 1. Returns FWC_OK
 * with an offer; FWC_ERR_NOT_FOUND when there is no update (a verified checkpoint that came
 * with the answer is recorded); FWC_ERR_STATE when the device is not provisioned; a transport
 * error (FWC_ERR_IO, ...) when the node or gateway could not be used; or, for a refusal, the
 * error behind it after committing a REFUSED event with its reason. */
int fwc_agent_hook_checkin(struct fwc_agent *ctx);

/* DECIDE: the device's policy over the verified release (encryption, licence, rollout "not
 * before"). FWC_OK to install now; otherwise an error, after committing a REFUSED event for
 * a release the device can never install (encrypted, licensed), or none for a postponement. */
int fwc_agent_hook_decide(struct fwc_agent *ctx);

/* REPORT: sign the queued events with the device key and send them to the ledger
 * (docs/agent.md, "Events"); each acknowledged event leaves the queue in one commit. Returns
 * FWC_OK when the queue is empty afterwards, else the error that stopped it. */
int fwc_agent_hook_report(struct fwc_agent *ctx);

/* Commit an event (type, reason, code, counter; the time from the port's clock), together
 * with the checkpoint cp when it is not NULL and newer than the recorded one. An event equal
 * to the newest queued one (same type, reason, code and counter) is not queued again, so a
 * device refusing the same answer at every poll writes its record once. */
int fwc_agent_queue_event(struct fwc_agent *ctx, uint8_t type, uint8_t reason, int code,
                          uint64_t counter, const struct fwc_agent_checkpoint *cp);

/* Commit cp as the newest accepted checkpoint when it is newer than the recorded one: a larger
 * tree, or (unless force) a time at least FWC_AGENT_CHECKPOINT_MIN_ADVANCE past the recorded
 * one; with force any newer time. Returns FWC_OK (also when nothing needed writing) or the
 * commit's error. */
int fwc_agent_accept_checkpoint(struct fwc_agent *ctx, const struct fwc_agent_checkpoint *cp,
                                int force);

#endif
