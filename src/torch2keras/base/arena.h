// A bump allocator that owns every AST node and string of one parse.
//
// Nodes are trivially destructible records, so the arena frees memory in bulk and
// never runs destructors. Sequences (`Seq<T>`) and strings (`std::string_view`)
// handed out by the arena stay valid for the arena's lifetime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace t2k {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  // Returns `size` bytes aligned to `align`, valid until the arena dies.
  void* allocate(std::size_t size, std::size_t align) {
    std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(cur_) + align - 1) & ~(align - 1);
    if (cur_ == nullptr || p + size > reinterpret_cast<std::uintptr_t>(end_)) {
      grow(size + align);
      p = (reinterpret_cast<std::uintptr_t>(cur_) + align - 1) & ~(align - 1);
    }
    cur_ = reinterpret_cast<char*>(p + size);
    bytes_used_ += size;
    return reinterpret_cast<void*>(p);
  }

  template <class T, class... Args>
  T* make(Args&&... args) {
    static_assert(std::is_trivially_destructible_v<T>, "arena objects are never destroyed");
    return new (allocate(sizeof(T), alignof(T))) T{std::forward<Args>(args)...};
  }

  // Copies `items` into the arena.
  template <class T>
  std::span<T> copy(std::span<const T> items) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (items.empty()) return {};
    T* out = static_cast<T*>(allocate(sizeof(T) * items.size(), alignof(T)));
    std::memcpy(static_cast<void*>(out), items.data(), sizeof(T) * items.size());
    return {out, items.size()};
  }

  // Copies `text` into the arena (not NUL-terminated).
  std::string_view copy_string(std::string_view text) {
    if (text.empty()) return std::string_view("", 0);
    char* out = static_cast<char*>(allocate(text.size(), 1));
    std::memcpy(out, text.data(), text.size());
    return {out, text.size()};
  }

  std::size_t bytes_used() const { return bytes_used_; }

 private:
  void grow(std::size_t at_least) {
    std::size_t size = next_block_size_;
    if (size < at_least) size = at_least;
    if (next_block_size_ < kMaxBlock) next_block_size_ *= 2;
    blocks_.push_back(std::make_unique<char[]>(size));
    cur_ = blocks_.back().get();
    end_ = cur_ + size;
  }

  static constexpr std::size_t kMaxBlock = std::size_t{1} << 22;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  std::size_t next_block_size_ = std::size_t{1} << 14;
  std::size_t bytes_used_ = 0;
};

}  // namespace t2k
