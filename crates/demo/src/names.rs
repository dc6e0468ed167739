//! Deterministic names for demo data.

const FIRST: &[&str] = &[
    "Ava", "Liam", "Noah", "Emma", "Olivia", "Mia", "Lucas", "Amelia", "Ethan", "Sofia", "Mateo",
    "Chloe", "Hugo", "Lea", "Jonas", "Lena", "Omar", "Priya", "Ravi", "Yuki", "Kenji", "Ines",
    "Pierre", "Marie", "Klaus", "Greta", "Diego", "Lucia", "Sven", "Astrid", "Tariq", "Fatima",
    "Chen", "Mei", "Samuel", "Grace", "Aaron", "Zoe", "Isaac", "Nora",
];

const LAST: &[&str] = &[
    "Smith", "Johnson", "Garcia", "Martin", "Bernard", "Dubois", "Muller", "Schmidt", "Rossi",
    "Tanaka", "Suzuki", "Kim", "Nguyen", "Patel", "Singh", "Cohen", "Silva", "Santos", "Novak",
    "Kowalski", "Andersen", "Larsen", "Okafor", "Mensah", "Haddad", "Moreau", "Fischer", "Weber",
    "Lopez", "Brown", "Taylor", "Wilson", "Walker", "Young", "King", "Wright",
];

const DEPARTMENTS: &[&str] = &[
    "Customer Care",
    "Billing",
    "Technical Support",
    "Sales",
    "Retention",
    "Collections",
    "Claims",
    "Scheduling",
    "Quality",
    "Back Office",
];

const TITLES: &[&str] = &[
    "Agent",
    "Senior Agent",
    "Team Lead",
    "Supervisor",
    "Specialist",
    "Analyst",
    "Coordinator",
];

/// splitmix64: a fast, well-mixed hash for deterministic choices.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], salt: u64, i: u64) -> &'a str {
    list[(mix(salt ^ i) % list.len() as u64) as usize]
}

/// A user's first and last name and user ID (unique per index).
pub fn user(salt: u64, i: u64) -> (&'static str, &'static str, String) {
    let first = pick(FIRST, salt, i);
    let last = pick(LAST, salt.rotate_left(17), i);
    let id = format!(
        "{}{}{}",
        &first[..1].to_lowercase(),
        last.to_lowercase(),
        i + 1
    );
    (first, last, id)
}

/// A department for index `i`.
pub fn department(salt: u64, i: u64) -> &'static str {
    pick(DEPARTMENTS, salt.rotate_left(5), i)
}

/// A job title for index `i`.
pub fn title(salt: u64, i: u64) -> &'static str {
    pick(TITLES, salt.rotate_left(9), i)
}

/// A workgroup name for index `w`.
pub fn workgroup(w: u64) -> String {
    let d = DEPARTMENTS[(w % DEPARTMENTS.len() as u64) as usize];
    format!("{d} {}", w / DEPARTMENTS.len() as u64 + 1)
}
