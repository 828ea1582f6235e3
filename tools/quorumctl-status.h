/* quorumctl-status.h -- `quorumctl status`: a running node's quorum, agreement, mode and
 * checkpoint, read from its REST transport. */
#ifndef QUORUMCTL_STATUS_H
#define QUORUMCTL_STATUS_H

/* cmd_status: ARGV[0] is "status". RETURN VALUE: the exit status (0 synchronised,
 * 1 unsynchronised, 2 usage error or the node could not be read). */
int cmd_status(int argc, char **argv);

#endif /* QUORUMCTL_STATUS_H */
