#pragma once
// A log-bucketed latency histogram with 3 significant digits (HdrHistogram's
// layout, simplified): 1024 linear sub-buckets per power of two, so every
// recorded value is kept within 0.1%.

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace bench {

class histogram {
 public:
  static constexpr int sub_bits = 10;
  static constexpr std::uint64_t sub_count = 1u << sub_bits;

  histogram() : counts_(64 * sub_count, 0) {}

  void record(std::uint64_t value) {
    ++counts_[index(value)];
    ++total_;
    if (value > max_) max_ = value;
  }

  /// Adds every sample of `other`.
  void merge(const histogram& other) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    if (other.max_ > max_) max_ = other.max_;
  }

  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }

  /// The smallest value v such that at least q of the samples are <= v.
  std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) return value_at(i);
    }
    return max_;
  }

 private:
  static std::size_t index(std::uint64_t v) {
    if (v < sub_count) return static_cast<std::size_t>(v);
    int top = 63 - std::countl_zero(v);  // v in [2^top, 2^(top+1))
    int shift = top - sub_bits;
    auto sub = (v >> shift) - sub_count;  // 0 .. sub_count-1
    return static_cast<std::size_t>((shift + 1) * sub_count + sub);
  }
  static std::uint64_t value_at(std::size_t i) {
    if (i < sub_count) return i;
    auto shift = static_cast<int>(i / sub_count) - 1;
    auto sub = i % sub_count;
    return ((sub_count + sub) << shift) + ((std::uint64_t{1} << shift) - 1);  // bucket's upper edge
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace bench
