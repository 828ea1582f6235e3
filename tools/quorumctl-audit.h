/* quorumctl-audit.h -- quorumctl's audit commands: `vault verify|dump|proof` read a vault
 * folder offline; `proof verify` checks a proof against a signed checkpoint. */
#ifndef QUORUMCTL_AUDIT_H
#define QUORUMCTL_AUDIT_H

/* Each takes the arguments after the command word (argv[0] is the command) and returns the
 * exit status: 0 success, 1 verification failed, 2 usage or I/O error. */
int cmd_vault(int argc, char **argv);
int cmd_proof(int argc, char **argv);

#endif /* QUORUMCTL_AUDIT_H */
