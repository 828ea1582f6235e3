#!/bin/sh
# stage-plugin.sh -- copies a built libtool plugin module to DEST/NAME.so (mode 0644, so the
# loader accepts it whatever the umask) and signs it: used by `make` for the build-tree
# plugin folder and by `make install` for the installed one.
# Usage: stage-plugin.sh QUORUM_SIGN KEY NAME.la|NAME.so DEST_DIR
set -eu
umask 022 # quorumd refuses plugins in folders writable by group or others
sign=$1 key=$2 src=$3 dest=$4
name=$(basename "$src")
name=${name%.la}
name=${name%.so}
case $src in
*.la)
	dlname=$(sed -n "s/^dlname='\(.*\)'/\1/p" "$src")
	[ -n "$dlname" ] || { echo "stage-plugin.sh: $src is not a shared module" >&2; exit 1; }
	so=$(dirname "$src")/.libs/$dlname
	mkdir -p "$dest"
	if [ ! -f "$dest/$name.so" ] || ! cmp -s "$so" "$dest/$name.so"; then
		rm -f "$dest/$name.so"
		cp "$so" "$dest/$name.so"
	fi
	;;
*)
	[ "$(dirname "$src")" = "$dest" ] || cp "$src" "$dest/$name.so"
	;;
esac
chmod 0644 "$dest/$name.so"
# Signed again when the plugin, the key or quorum-sign (the signature format) changed.
if [ ! -f "$dest/$name.so.sig" ] || [ "$dest/$name.so" -nt "$dest/$name.so.sig" ] ||
   [ "$key" -nt "$dest/$name.so.sig" ] || [ "$sign" -nt "$dest/$name.so.sig" ]; then
	"$sign" --key "$key" --name "$name" "$dest/$name.so"
	chmod 0644 "$dest/$name.so.sig"
fi
