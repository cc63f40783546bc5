// The verification rules live in YongjunVerifier so a shop device can use them without the rest; everything that
// imports the domain sees them too.
@_exported import YongjunVerifier
