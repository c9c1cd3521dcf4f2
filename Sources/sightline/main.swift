import Foundation

FileHandle.standardError.write(Data("sightline: not yet\n".utf8))
exit(2)
