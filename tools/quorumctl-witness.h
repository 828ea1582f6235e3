/* quorumctl-witness.h -- `quorumctl checkpoint verify`: a signed checkpoint's log signature,
 * its C2SP cosignatures by given witness keys (at least K of them), and whether a vault
 * folder still extends it (a rolled-back or forked log does not). */
#ifndef QUORUMCTL_WITNESS_H
#define QUORUMCTL_WITNESS_H

/* cmd_checkpoint: ARGV[0] is "checkpoint". RETURN VALUE: the exit status: 0 verified, 1 not
 * (or the vault contradicts the checkpoint), 2 usage or I/O error. */
int cmd_checkpoint(int argc, char **argv);

#endif /* QUORUMCTL_WITNESS_H */
