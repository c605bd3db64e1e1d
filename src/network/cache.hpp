// oneDNN's primitive cache, seen from outside network/: a primitive created before is served from it (nearly
// free), and it keeps each cached primitive's memory until evicted.
#pragma once

namespace c1r {

// Drops every primitive the cache holds, with the memory they keep; the capacity stays as it was.
void clear_primitive_cache();

}  // namespace c1r
