# Sourced by the bench/run_*.sh scripts: the two steps they share.

# release_build BUILD_DIR TARGET...: configures BUILD_DIR for a Release build
# (only if it is not one already) and builds the targets.
release_build() {
  local build="$1"
  shift
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    local generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$build" "${targets[@]}" -j "$(nproc)"
}

# write_figures DOC BEGIN END FIGURES SCRIPT: replaces what lies between the
# lines BEGIN and END of DOC with the file FIGURES; SCRIPT names the caller
# in the error when a marker is missing.
write_figures() {
  local doc="$1" begin="$2" end="$3" figures="$4" script="$5"
  if ! grep -qF -- "$begin" "$doc" || ! grep -qF -- "$end" "$doc"; then
    echo "$script: $doc lacks the markers $begin / $end" >&2
    return 1
  fi
  awk -v figures="$figures" -v begin="$begin" -v end="$end" '
    $0 == begin { print; while ((getline line < figures) > 0) print line; skipping = 1; next }
    $0 == end { skipping = 0 }
    !skipping { print }
  ' "$doc" >"$doc.new"
  mv "$doc.new" "$doc"
  echo "figures written to $doc"
}
