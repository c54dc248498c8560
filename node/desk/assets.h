// The desk's pages, stylesheets and scripts (node/desk/assets/), compiled
// into the binary by node/desk/embed_assets.cmake: the desk needs nothing
// from the internet or the disk.
//
// Thread contract: immutable data.
#pragma once

#include <cstddef>
#include <string_view>

namespace liandong::desk {

struct Asset {
  const char* path;  // "index.html", "assets/desk.css"
  const char* content_type;
  const char* data;
  std::size_t size;
};

// The asset at `path` (no leading slash), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace liandong::desk
