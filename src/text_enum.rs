//! Enums stored as text: one macro gives each its `as_str` and `parse`, so the
//! database spelling is written once, next to the serde spelling it matches.

/// `text_enum!(State { Draft = "draft", ... })` implements `as_str()` and
/// `parse(&str) -> Option<Self>`.
#[macro_export]
macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($ty::$variant),)+ _ => None }
            }

            /// Reads the stored text, treating anything unknown as corrupt data.
            pub fn from_db(text: &str) -> $crate::error::Result<Self> {
                Self::parse(text).ok_or_else(|| {
                    $crate::error::Error::Internal(anyhow::anyhow!(concat!("unknown ", stringify!($ty), " {:?} in the database"), text))
                })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
