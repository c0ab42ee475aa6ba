#!/bin/sh
# Proves the USDT probes are in the library: readelf -n lists one stapsdt
# note per probe site, provider `courier`.
# usage: check.sh LIBRARY
set -eu
notes=$(readelf -n "$1")
for probe in send schedule turn_begin turn_end steal stalled park wake reply; do
  echo "$notes" | grep -A3 "stapsdt" | grep -q "Name: $probe\$" || { echo "probe $probe missing from $1"; exit 1; }
done
echo "$notes" | grep -A2 stapsdt | grep -q "Provider: courier" || { echo "provider courier missing"; exit 1; }
echo "all 9 probes present: $(echo "$notes" | grep -c stapsdt) probe sites"
