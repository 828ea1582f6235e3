/* quorumctl-passport.h -- quorumctl's passport commands: `passport create|verify|event` make,
 * check and wrap for delivery an authority's passport signed by the trust root. */
#ifndef QUORUMCTL_PASSPORT_H
#define QUORUMCTL_PASSPORT_H

/* Takes the arguments after the command word (argv[0] is "passport") and returns the exit
 * status: 0 success, 1 invalid, 2 usage or I/O error. */
int cmd_passport(int argc, char **argv);

#endif /* QUORUMCTL_PASSPORT_H */
