/* quorumctl-chrony.h -- `quorumctl chrony-conf`: the chrony.conf line for the chrony
 * transport's samples. */
#ifndef QUORUMCTL_CHRONY_H
#define QUORUMCTL_CHRONY_H

/* cmd_chrony_conf: ARGV[0] is "chrony-conf". RETURN VALUE: the exit status (0 printed,
 * 1 the node is unsynchronised and no --bound was given, 2 usage or I/O error). */
int cmd_chrony_conf(int argc, char **argv);

#endif /* QUORUMCTL_CHRONY_H */
