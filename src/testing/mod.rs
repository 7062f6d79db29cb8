//! Test doubles, as the seed provides: fake, recording and failing `Sv`
//! implementations and a [`FakeServiceBuilder`] on temporary roots.
