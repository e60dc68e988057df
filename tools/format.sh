#!/usr/bin/env bash
# Formats every C++ file of the project (tracked, or new and not ignored)
# with clang-format and the root's .clang-format; with --check, changes
# nothing and fails if any file is not formatted (the test command runs it
# so).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard \
  '*.cpp' '*.hpp')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run -Werror "${files[@]}"
  echo "format: ${#files[@]} files formatted as .clang-format says"
else
  clang-format -i "${files[@]}"
fi
