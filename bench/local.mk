# bench/local.mk -- `make bench`: benchmarks, each printing its numbers (and ratios against
# the named peer where the issue names one).
