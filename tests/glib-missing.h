/* tests/glib-missing.h -- configure found no GLib: it puts this header in front of every
 * test that is built with GLIB_CFLAGS, so that `make check` stops here saying why, instead
 * of at a missing <glib.h>. A plain `make` builds nothing that needs GLib. */
#error "make check needs GLib (glib-2.0 >= 2.70), which configure did not find: apt-get install -y libglib2.0-dev, then run configure again"
