/* quorumctl-control.h -- `quorumctl control ...`: an operator's signed control events. */
#ifndef QUORUMCTL_CONTROL_H
#define QUORUMCTL_CONTROL_H

/* cmd_control: ARGV[0] is "control". RETURN VALUE: the process exit status (0 written,
 * 1 failed, 2 usage). */
int cmd_control(int argc, char **argv);

#endif /* QUORUMCTL_CONTROL_H */
