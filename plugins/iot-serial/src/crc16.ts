/** Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), transmitted low byte first. */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[byte] = crc;
  }
  return table;
})();

export function crc16(data: Uint8Array, length = data.length): number {
  let crc = 0xffff;
  for (let index = 0; index < length; index++) crc = (crc >>> 8) ^ TABLE[(crc ^ data[index]!) & 0xff]!;
  return crc;
}

/** Appends the CRC (low byte first) to a frame body. */
export function withCrc(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(body.length + 2);
  frame.set(body);
  frame.writeUInt16LE(crc16(body), body.length);
  return frame;
}

export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const expected = frame[frame.length - 2]! | (frame[frame.length - 1]! << 8);
  return crc16(frame, frame.length - 2) === expected;
}
