// Whole-file text I/O for small files (bundle.json, model cards, run state).
#pragma once
#include <string>

namespace e2e {

// The file's bytes; std::runtime_error "cannot read PATH" when it cannot be opened.
std::string readTextFile(const std::string& path);

// Writes PATH.tmp, then renames it over PATH: a reader sees the old or the new file, never a part.
void writeFileAtomic(const std::string& path, const std::string& text);

}  // namespace e2e
