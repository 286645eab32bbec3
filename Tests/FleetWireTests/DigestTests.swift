import FleetCrypto
import Testing

struct DigestTests {
    @Test func hmacAndSHA256MatchTheirPublishedVectors() {
        // RFC 4231, test case 2.
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // FIPS 180-2, "abc".
        #expect(
            Digest.hex(Digest.sha256(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hex(Digest.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func randomBytesHaveTheLengthAskedAndDiffer() {
        #expect(Digest.randomBytes(13).count == 13)
        #expect(Digest.randomBytes(0).isEmpty)
        #expect(Digest.randomBytes(16) != Digest.randomBytes(16))
    }

    @Test func constantTimeEqualComparesEveryByte() {
        #expect(Digest.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Digest.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Digest.constantTimeEqual([1, 2, 3], [1, 2]))
    }
}
