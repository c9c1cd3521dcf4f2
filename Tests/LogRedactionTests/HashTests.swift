import Foundation
import XCTest

@testable import LogRedaction

/// Published vectors (FIPS 180, RFC 4231, RFC 6455) plus padding edge lengths computed with python3 hashlib.
final class HashTests: XCTestCase {
    /// `bytes(i % 251 for i in range(n))`, the message used for the padding edge cases.
    private func message(_ length: Int) -> [UInt8] { (0..<length).map { UInt8($0 % 251) } }

    func testSHA256FIPSVectors() {
        XCTAssertEqual(
            Hex.encode(SHA256.hash(Array("abc".utf8))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        XCTAssertEqual(
            Hex.encode(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        XCTAssertEqual(
            Hex.encode(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        )
    }

    func testSHA256PaddingEdgeLengths() {
        let vectors: [(Int, String)] = [
            (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
            (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
            (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
            (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
            (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
            (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
            (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
            (128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5"),
            (1000, "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d"),
        ]
        for (length, expected) in vectors {
            XCTAssertEqual(Hex.encode(SHA256.hash(message(length))), expected, "length \(length)")
        }
    }

    func testSHA256IncrementalUpdatesMatchOneShot() {
        let bytes = message(1000)
        for split in [0, 1, 63, 64, 65, 500, 999, 1000] {
            var hasher = SHA256()
            hasher.update(bytes[0..<split])
            hasher.update(bytes[split...])
            XCTAssertEqual(hasher.finalize(), SHA256.hash(bytes), "split at \(split)")
        }
        // A non-contiguous collection takes the copying path.
        XCTAssertEqual(SHA256.hash("abc".utf8.lazy.map { $0 }), SHA256.hash(Array("abc".utf8)))
    }

    func testSHA1Vectors() {
        XCTAssertEqual(Hex.encode(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        let vectors: [(Int, String)] = [
            (0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (1, "5ba93c9db0cff93f52b521d7420e43f6eda2784f"),
            (55, "8ae2d46729cfe68ff927af5eec9c7d1b66d65ac2"),
            (56, "636e2ec698dac903498e648bd2f3af641d3c88cb"),
            (63, "6d942da0c4392b123528f2905c713a3ce28364bd"),
            (64, "c6138d514ffa2135bfce0ed0b8fac65669917ec7"),
            (65, "69bd728ad6e13cd76ff19751fde427b00e395746"),
            (119, "41c89d06001bab4ab78736b44efe7ce18ce6ae08"),
            (120, "d3dbd653bd8597b7475321b60a36891278e6a04a"),
            (128, "e6434bc401f98603d7eda504790c98c67385d535"),
            (1000, "c9c960a0b925474fab83942cc27d504fc24ac37b"),
        ]
        for (length, expected) in vectors {
            XCTAssertEqual(Hex.encode(SHA1.hash(message(length))), expected, "length \(length)")
        }
    }

    func testRFC6455WebSocketAccept() {
        let digest = SHA1.hash(Array("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8))
        XCTAssertEqual(Data(digest).base64EncodedString(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testHMACSHA256RFC4231() {
        XCTAssertEqual(
            Hex.encode(
                HMACSHA256.authenticate(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
            ),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
        // Case 1: 20-byte 0x0b key.
        XCTAssertEqual(
            Hex.encode(
                HMACSHA256.authenticate(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
            ),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        // Case 6: a key longer than the block is hashed first.
        XCTAssertEqual(
            Hex.encode(
                HMACSHA256.authenticate(
                    key: [UInt8](repeating: 0xaa, count: 131),
                    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
                )
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )
    }

    func testKeyedInstanceIsReusableAndDoesNotPrintKeyMaterial() {
        let mac = HMACSHA256(key: Array("Jefe".utf8))
        let message = Array("what do ya want for nothing?".utf8)
        XCTAssertEqual(mac.authenticate(message), mac.authenticate(message))
        XCTAssertEqual(String(describing: mac), "HMACSHA256(REDACTED)")
        XCTAssertTrue(Mirror(reflecting: mac).children.isEmpty)
    }

    func testHexRoundTripAndStrictDecoding() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff")
        XCTAssertEqual(Hex.decode("000FA0ff"), [0x00, 0x0f, 0xa0, 0xff])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode(" 00"))
        XCTAssertEqual(Hex.decode(""), [])
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        XCTAssertTrue(constantTimeEquals([] as [UInt8], [] as [UInt8]))
    }
}
