// A cap on how much this side's SCTP association keeps in flight, which keeps
// GStreamer's sctpenc from sleeping 100 ms at a time on a fast path.
//
// sctpenc (gst-plugins-bad 1.22 to 1.28, gstsctpenc.c) hands each message to
// usrsctp; when usrsctp's 1 MiB send buffer is full it waits on a condition
// that only an outgoing SCTP packet signals, or 100 ms. When the whole buffer
// is in flight, the SACKs that empty it make usrsctp send nothing (it has
// nothing unsent), so the sender waits the full 100 ms: measured on loopback,
// 23 to 34 such waits in a 64 MiB transfer, 2.2 to 3.3 s of its 3.5 to 4.5 s.
// The whole buffer gets in flight whenever the peer's receive window is 1 MiB or
// more (GStreamer's and browsers' are) and the path holds that much, as a
// loaded machine's sockets or a long fat link do.
//
// So the peer's advertised receive window (a_rwnd, in the SACK, INIT and
// INIT ACK chunks this side's usrsctp receives, after DTLS) is capped below the
// send buffer: usrsctp then always has unsent data while the buffer is full,
// every SACK that opens the window sends a packet, and that packet wakes
// sctpenc. The cap only lowers what this side sends ahead; what the peer
// receives is unchanged. Packets whose checksum does not verify pass unchanged
// (usrsctp drops them).
#include "sctp_send_window.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace {

constexpr size_t kCommonHeaderBytes = 12;
constexpr size_t kChecksumOffset = 8;
constexpr size_t kChunkHeaderBytes = 4;
// INIT and INIT ACK: type, flags, length, initiate tag, then a_rwnd; SACK:
// type, flags, length, cumulative TSN ack, then a_rwnd (RFC 9260, 3.3).
constexpr size_t kWindowOffsetInChunk = 8;
constexpr uint8_t kInit = 1, kInitAck = 2, kSack = 3;

uint32_t ReadBigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

void WriteBigEndian32(uint8_t* bytes, uint32_t value) {
  for (int i = 0; i < 4; i++) bytes[i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}

// CRC-32C (Castagnoli), as SCTP's checksum (RFC 9260, appendix A).
uint32_t Crc32c(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> entries{};
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
      entries[i] = crc;
    }
    return entries;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// The packet's checksum as SCTP computes it: over the packet with the field zeroed,
// stored least significant byte first.
uint32_t PacketChecksum(uint8_t* packet, size_t size) {
  uint8_t saved[4];
  std::memcpy(saved, packet + kChecksumOffset, 4);
  std::memset(packet + kChecksumOffset, 0, 4);
  const uint32_t crc = Crc32c(packet, size);
  std::memcpy(packet + kChecksumOffset, saved, 4);
  return crc;
}

uint32_t StoredChecksum(const uint8_t* packet) {
  return uint32_t{packet[8]} | (uint32_t{packet[9]} << 8) | (uint32_t{packet[10]} << 16) | (uint32_t{packet[11]} << 24);
}

void StoreChecksum(uint8_t* packet, uint32_t crc) {
  for (int i = 0; i < 4; i++) packet[kChecksumOffset + i] = static_cast<uint8_t>(crc >> (8 * i));
}

// Calls `visit(chunk)` with the offset of each INIT, INIT ACK or SACK chunk long
// enough to hold a window; stops at the first malformed chunk header.
template <typename Visit>
void ForEachWindowChunk(const uint8_t* packet, size_t size, Visit visit) {
  size_t offset = kCommonHeaderBytes;
  while (offset + kChunkHeaderBytes <= size) {
    const uint8_t type = packet[offset];
    const size_t length = (size_t{packet[offset + 2]} << 8) | packet[offset + 3];
    if (length < kChunkHeaderBytes || offset + length > size) return;
    if ((type == kInit || type == kInitAck || type == kSack) && length >= kWindowOffsetInChunk + 4) visit(offset);
    offset += (length + 3) & ~size_t{3};
  }
}

bool NeedsCap(const uint8_t* packet, size_t size, uint32_t cap) {
  bool needed = false;
  ForEachWindowChunk(packet, size, [&](size_t chunk) { needed = needed || ReadBigEndian32(packet + chunk + kWindowOffsetInChunk) > cap; });
  return needed;
}

GstPadProbeReturn CapWindow(GstPad*, GstPadProbeInfo* info, gpointer data) {
  const uint32_t cap = GPOINTER_TO_UINT(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  const bool needed = map.size >= kCommonHeaderBytes && NeedsCap(map.data, map.size, cap);
  gst_buffer_unmap(buffer, &map);
  if (!needed) return GST_PAD_PROBE_OK;

  buffer = gst_buffer_make_writable(buffer);
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READWRITE)) return GST_PAD_PROBE_OK;
  if (PacketChecksum(map.data, map.size) == StoredChecksum(map.data)) {
    ForEachWindowChunk(map.data, map.size, [&](size_t chunk) {
      uint8_t* window = map.data + chunk + kWindowOffsetInChunk;
      if (ReadBigEndian32(window) > cap) WriteBigEndian32(window, cap);
    });
    StoreChecksum(map.data, PacketChecksum(map.data, map.size));
  }
  gst_buffer_unmap(buffer, &map);
  return GST_PAD_PROBE_OK;
}

}  // namespace

void CapSctpSendWindow(GstElement* sctpdec, uint32_t capBytes) {
  GstPad* sink = gst_element_get_static_pad(sctpdec, "sink");
  if (sink == nullptr) return;
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, CapWindow, GUINT_TO_POINTER(capBytes), nullptr);
  gst_object_unref(sink);
}
