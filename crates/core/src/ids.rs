//! Typed identifiers, so an organisation id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A Verbund: the group of towns one security office serves.
    VerbundId
);
id_type!(
    /// An organisation: member town, county administration, the office itself, or a town without Verbund.
    OrgId
);
id_type!(
    /// A person who can log in.
    UserId
);
id_type!(
    /// A user's role in one organisation.
    MembershipId
);
id_type!(
    /// A contact person of an organisation.
    ContactId
);
id_type!(
    /// A personal API token.
    TokenId
);
id_type!(
    /// An object of a town's Informationsverbund (process, application, system …).
    ObjectId
);
id_type!(
    /// A dependency between two objects.
    LinkId
);
