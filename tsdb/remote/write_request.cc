#include "tsdb/remote/write_request.h"

#include <snappy.h>

#include <bit>
#include <cmath>
#include <cstring>

namespace tocsin::tsdb::remote {

namespace {

// A cursor over protobuf wire format; errors carry the absolute byte offset.
class Reader {
 public:
  Reader(std::string_view in, size_t base) : in_(in), base_(base) {}
  bool done() const { return pos_ >= in_.size(); }

  Status Varint(uint64_t* v) {
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) < 0x80) {  // one byte: tags, lengths
      *v = static_cast<uint8_t>(in_[pos_++]);
      return Status::Ok();
    }
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Error("truncated varint");
      auto b = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return Status::Ok();
    }
    return Error("varint longer than 10 bytes");
  }
  Status Fixed64(uint64_t* v) {
    if (in_.size() - pos_ < 8) return Error("truncated fixed64");
    std::memcpy(v, in_.data() + pos_, 8);  // little-endian on every platform we build for
    pos_ += 8;
    return Status::Ok();
  }
  Status Bytes(std::string_view* v, size_t* offset) {
    uint64_t n;
    TOCSIN_RETURN_IF_ERROR(Varint(&n));
    if (n > in_.size() - pos_) return Error("length " + std::to_string(n) + " runs past the end");
    *offset = base_ + pos_;
    *v = in_.substr(pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  // Skips a field of an unknown number (wire types 0, 1, 2, 5).
  Status Skip(int wire_type) {
    uint64_t v;
    std::string_view s;
    size_t off;
    switch (wire_type) {
      case 0:
        return Varint(&v);
      case 1:
        return Fixed64(&v);
      case 2:
        return Bytes(&s, &off);
      case 5:
        if (in_.size() - pos_ < 4) return Error("truncated fixed32");
        pos_ += 4;
        return Status::Ok();
      default:
        return Error("unsupported wire type " + std::to_string(wire_type));
    }
  }
  Status Tag(int* field, int* wire_type) {
    uint64_t t;
    TOCSIN_RETURN_IF_ERROR(Varint(&t));
    *field = static_cast<int>(t >> 3);
    *wire_type = static_cast<int>(t & 7);
    if (*field == 0) return Error("field number 0");
    return Status::Ok();
  }
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("protobuf: " + what + " at byte " +
                                   std::to_string(base_ + pos_));
  }
  Status Expect(int field, int wire_type, int want) const {
    if (wire_type == want) return Status::Ok();
    return Error("field " + std::to_string(field) + " has wire type " + std::to_string(wire_type) +
                 ", want " + std::to_string(want));
  }

 private:
  std::string_view in_;
  size_t base_;
  size_t pos_ = 0;
};

Status DecodeLabel(std::string_view msg, size_t base, Label* out) {
  Reader r(msg, base);
  *out = Label();
  while (!r.done()) {
    int f = 0, wt = 0;
    TOCSIN_RETURN_IF_ERROR(r.Tag(&f, &wt));
    size_t off;
    if (f == 1 || f == 2) {
      TOCSIN_RETURN_IF_ERROR(r.Expect(f, wt, 2));
      TOCSIN_RETURN_IF_ERROR(r.Bytes(f == 1 ? &out->name : &out->value, &off));
    } else {
      TOCSIN_RETURN_IF_ERROR(r.Skip(wt));
    }
  }
  if (out->name.empty())
    return Status::InvalidArgument("label without a name at byte " + std::to_string(base));
  return Status::Ok();
}

Status DecodeSample(std::string_view msg, size_t base, Sample* out) {
  Reader r(msg, base);
  *out = Sample();
  while (!r.done()) {
    int f = 0, wt = 0;
    TOCSIN_RETURN_IF_ERROR(r.Tag(&f, &wt));
    if (f == 1) {
      TOCSIN_RETURN_IF_ERROR(r.Expect(f, wt, 1));
      uint64_t bits = 0;
      TOCSIN_RETURN_IF_ERROR(r.Fixed64(&bits));
      out->value = std::bit_cast<double>(bits);
    } else if (f == 2) {
      TOCSIN_RETURN_IF_ERROR(r.Expect(f, wt, 0));
      uint64_t v;
      TOCSIN_RETURN_IF_ERROR(r.Varint(&v));
      out->timestamp_ms = static_cast<int64_t>(v);
    } else {
      TOCSIN_RETURN_IF_ERROR(r.Skip(wt));
    }
  }
  return Status::Ok();
}

Status DecodeSeries(std::string_view msg, size_t base, TimeSeries* ts) {
  ts->labels.clear();
  ts->samples.clear();
  ts->histograms = 0;
  Reader r(msg, base);
  while (!r.done()) {
    int f = 0, wt = 0;
    TOCSIN_RETURN_IF_ERROR(r.Tag(&f, &wt));
    if (f == 1 || f == 2 || f == 4) {
      TOCSIN_RETURN_IF_ERROR(r.Expect(f, wt, 2));
      std::string_view sub;
      size_t off;
      TOCSIN_RETURN_IF_ERROR(r.Bytes(&sub, &off));
      if (f == 1) {
        ts->labels.emplace_back();
        TOCSIN_RETURN_IF_ERROR(DecodeLabel(sub, off, &ts->labels.back()));
      } else if (f == 2) {
        ts->samples.emplace_back();
        TOCSIN_RETURN_IF_ERROR(DecodeSample(sub, off, &ts->samples.back()));
      } else {
        ++ts->histograms;
      }
    } else {
      TOCSIN_RETURN_IF_ERROR(r.Skip(wt));  // exemplars (3) and anything newer
    }
  }
  return Status::Ok();
}

void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

void PutBytes(std::string* dst, int field, std::string_view b) {
  PutVarint(dst, static_cast<uint64_t>(field) << 3 | 2);
  PutVarint(dst, b.size());
  dst->append(b);
}

}  // namespace

Status WriteRequest::Decode(std::string_view body, size_t max_bytes) {
  static constexpr std::string_view kFramedMagic("\xff\x06\x00\x00sNaPpY", 10);
  if (body.substr(0, kFramedMagic.size()) == kFramedMagic) {
    return Status::InvalidArgument(
        "snappy: framed stream format; remote write uses the block format");
  }
  size_t n;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &n)) {
    return Status::InvalidArgument("snappy: corrupt input (bad length preamble)");
  }
  if (n > max_bytes) {
    return Status::ResourceExhausted("decoded body of " + std::to_string(n) +
                                     " bytes exceeds the limit of " + std::to_string(max_bytes));
  }
  buf_.resize(n);
  if (!snappy::RawUncompress(body.data(), body.size(), buf_.data())) {
    return Status::InvalidArgument("snappy: corrupt input");
  }
  return DecodeProto(buf_);
}

Status WriteRequest::DecodeProto(std::string_view proto) {
  num_series_ = 0;
  Reader r(proto, 0);
  while (!r.done()) {
    int f = 0, wt = 0;
    TOCSIN_RETURN_IF_ERROR(r.Tag(&f, &wt));
    if (f != 1) {
      TOCSIN_RETURN_IF_ERROR(r.Skip(wt));  // metadata (3) is accepted and not stored yet
      continue;
    }
    TOCSIN_RETURN_IF_ERROR(r.Expect(f, wt, 2));
    std::string_view sub;
    size_t off;
    TOCSIN_RETURN_IF_ERROR(r.Bytes(&sub, &off));
    if (num_series_ == series_.size()) series_.emplace_back();
    TOCSIN_RETURN_IF_ERROR(DecodeSeries(sub, off, &series_[num_series_]));
    ++num_series_;
  }
  return Status::Ok();
}

size_t WriteRequest::num_samples() const {
  size_t n = 0;
  for (size_t i = 0; i < num_series_; ++i) n += series_[i].samples.size();
  return n;
}

void EncodeTimeSeries(const std::vector<Label>& labels, const std::vector<Sample>& samples,
                      std::string* dst) {
  std::string ts, sub;
  for (const Label& l : labels) {
    sub.clear();
    PutBytes(&sub, 1, l.name);
    PutBytes(&sub, 2, l.value);
    PutBytes(&ts, 1, sub);
  }
  for (const Sample& s : samples) {
    sub.clear();
    if (s.value != 0 || std::signbit(s.value)) {
      sub.push_back(static_cast<char>(1 << 3 | 1));
      uint64_t bits = std::bit_cast<uint64_t>(s.value);
      sub.append(reinterpret_cast<const char*>(&bits), 8);
    }
    if (s.timestamp_ms != 0) {
      sub.push_back(static_cast<char>(2 << 3 | 0));
      PutVarint(&sub, static_cast<uint64_t>(s.timestamp_ms));
    }
    PutBytes(&ts, 2, sub);
  }
  PutBytes(dst, 1, ts);
}

}  // namespace tocsin::tsdb::remote
