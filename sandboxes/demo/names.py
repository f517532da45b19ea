"""Built-in word lists for the demo world: names, streets, metros, email providers.

Why not faker: the generator must produce 50,000+ people in a few seconds and must give the
same output for the same seed on every machine and library version. Fixed tuples drawn from
with one ``random.Random`` give both. The lists are long enough that names repeat at scale
(two unrelated "Maria Garcia"s exist in a large world), which identity resolution must
tolerate: a name is never an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Michael", "Patricia", "Robert", "Jennifer", "John", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Karen", "Christopher", "Sarah", "Charles", "Lisa", "Daniel", "Nancy", "Matthew", "Sandra",
    "Anthony", "Betty", "Mark", "Ashley", "Donald", "Emily", "Steven", "Kimberly", "Andrew",
    "Margaret", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "George", "Rebecca",
    "Jason", "Sharon", "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Dorothy", "Jacob",
    "Amy", "Nicholas", "Kathleen", "Gary", "Angela", "Eric", "Shirley", "Jonathan", "Emma",
    "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Nicole", "Scott", "Anna", "Brandon",
    "Samantha", "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Debra", "Alexander",
    "Rachel", "Patrick", "Carolyn", "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia",
    "Dennis", "Heather", "Jerry", "Helen", "Tyler", "Catherine", "Aaron", "Diane", "Jose",
    "Julie", "Adam", "Victoria", "Nathan", "Joyce", "Henry", "Lauren", "Zachary", "Kelly",
    "Douglas", "Christina", "Peter", "Ruth", "Kyle", "Joan", "Noah", "Virginia", "Ethan",
    "Judith", "Jeremy", "Evelyn", "Christian", "Hannah", "Walter", "Andrea", "Keith", "Megan",
    "Austin", "Cheryl", "Roger", "Jacqueline", "Terry", "Madison", "Sean", "Teresa", "Gerald",
    "Abigail", "Carl", "Sophia", "Dylan", "Martha", "Harold", "Sara", "Jordan", "Gloria",
    "Jesse", "Janice", "Bryan", "Kathryn", "Lawrence", "Ann", "Arthur", "Isabella", "Gabriel",
    "Judy", "Bruce", "Charlotte", "Logan", "Julia", "Billy", "Grace", "Joe", "Amber", "Alan",
    "Alice", "Juan", "Jean", "Elijah", "Denise", "Willie", "Frances", "Albert", "Danielle",
    "Wayne", "Marilyn", "Randy", "Natalie", "Mason", "Beverly", "Vincent", "Diana", "Liam",
    "Brittany", "Roy", "Theresa", "Bobby", "Kayla", "Caleb", "Alexis", "Bradley", "Doris",
    "Russell", "Lori", "Lucas", "Tiffany", "Wei", "Mei", "Hiroshi", "Yuki", "Priya", "Arjun",
    "Aisha", "Omar", "Fatima", "Mateo", "Camila", "Diego", "Valentina", "Kwame", "Amara",
    "Chen", "Jia", "Min-jun", "Seo-yeon", "Dmitri", "Anya", "Siobhan", "Declan", "Ines",
    "Luca", "Giulia", "Nadia", "Tariq", "Leila", "Ravi", "Ananya", "Thiago", "Lucia",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
    "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan",
    "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno",
    "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
    "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman",
    "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks",
    "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar",
    "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson",
    "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn",
    "O'Brien", "O'Connor", "Okafor", "Adeyemi", "Mensah", "Wang", "Zhang", "Liu", "Yamamoto",
    "Tanaka", "Sato", "Park", "Choi", "Singh", "Shah", "Gupta", "Iyer", "Haddad", "Khalil",
    "Nowak", "Kowalski", "Novak", "Rossi", "Russo", "Ferrari", "Costa", "Santos", "Oliveira",
    "Dubois", "Laurent", "Muller", "Schneider", "Becker", "Larsen", "Johansson", "Ivanova",
)  # fmt: skip

STREETS: tuple[str, ...] = (
    "Maple Ave", "Oak St", "Park Pl", "Washington St", "Lincoln Ave", "Elm St", "Cedar St",
    "Highland Ave", "Franklin St", "Prospect Pl", "Union St", "Church St", "Willow St",
    "Chestnut St", "Walnut St", "Spruce St", "Pine St", "Madison Ave", "Jefferson St",
    "Grand St", "Bergen St", "Dean St", "Court St", "Summit Ave", "Myrtle Ave", "Hudson St",
    "Garden St", "Water St", "Mill St", "Cherry St", "Locust St", "Pearl St", "Bedford Ave",
    "Putnam Ave", "Greene Ave", "Clinton St", "Henry St", "Warren St", "Academy St",
    "Beacon St", "Commonwealth Ave", "Tremont St", "Dudley St", "Harvard St", "Elmwood Ave",
    "Division St", "Armitage Ave", "Belmont Ave", "Damen Ave", "Wolcott Ave", "Fullerton Ave",
    "Girard Ave", "Passyunk Ave", "Catharine St", "Pemberton St", "Lombard St", "Porter St",
    "Irving St", "Calvert St", "Kalorama Rd", "Newton St", "Riverside Dr", "Sunset Blvd",
    "Lake St", "Forest Ave", "Ridge Rd", "College Ave", "Railroad Ave", "Sycamore Ln",
)  # fmt: skip

APARTMENT_FORMATS: tuple[str, ...] = ("Apt {n}{l}", "Apt {n}", "Unit {n}", "#{n}{l}", "Fl {n}")

#: Email providers with rough market weights. Real provider domains (not example.com) because
#: identity resolution must cope with what real customers type; nothing here is ever mailed.
EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 48),
    ("yahoo.com", 11),
    ("icloud.com", 10),
    ("outlook.com", 7),
    ("hotmail.com", 6),
    ("aol.com", 3),
    ("proton.me", 2),
    ("me.com", 2),
    ("comcast.net", 2),
    ("verizon.net", 1),
    ("fastmail.com", 1),
)

#: Domains for the "work" address of people with two emails.
WORK_DOMAINS: tuple[str, ...] = (
    "acmecorp.com", "brightline.io", "northwind.co", "harborhealth.org", "kestrel.ai",
    "bluepeak.com", "meridianlaw.com", "tidewater.edu", "lumenstudio.co", "copperleaf.com",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Town:
    """A city with postal codes and phone area codes, so addresses and phones look local."""

    city: str
    region: str
    postal_codes: tuple[str, ...]
    area_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Metro:
    """A metro area. Store metros have stores people walk into; others only buy online."""

    code: str
    towns: tuple[Town, ...]
    timezone: str


METROS: tuple[Metro, ...] = (
    Metro(
        "NYC",
        (
            Town("Brooklyn", "NY", ("11201", "11211", "11215", "11217", "11222", "11238", "11249"),
                 ("718", "347", "929", "917")),
            Town("New York", "NY", ("10002", "10003", "10009", "10011", "10012", "10013",
                                    "10014", "10023", "10025", "10128"),
                 ("212", "646", "917", "332")),
            Town("Astoria", "NY", ("11102", "11103", "11105"), ("718", "347", "929")),
            Town("Jersey City", "NJ", ("07302", "07304", "07306"), ("201", "551")),
            Town("Hoboken", "NJ", ("07030",), ("201", "551")),
        ),
        "America/New_York",
    ),
    Metro(
        "BOS",
        (
            Town("Boston", "MA", ("02115", "02116", "02118", "02130"), ("617", "857")),
            Town("Cambridge", "MA", ("02138", "02139", "02141"), ("617", "857")),
            Town("Somerville", "MA", ("02143", "02144"), ("617", "857")),
            Town("Brookline", "MA", ("02445", "02446"), ("617", "857")),
        ),
        "America/New_York",
    ),
    Metro(
        "PHL",
        (
            Town("Philadelphia", "PA", ("19103", "19104", "19106", "19107", "19123", "19125",
                                        "19130", "19146", "19147"),
                 ("215", "267", "445")),
            Town("Cherry Hill", "NJ", ("08002", "08003"), ("856",)),
        ),
        "America/New_York",
    ),
    Metro(
        "CHI",
        (
            Town("Chicago", "IL", ("60607", "60610", "60614", "60618", "60622", "60642",
                                   "60647", "60657"),
                 ("312", "773", "872")),
            Town("Evanston", "IL", ("60201", "60202"), ("847", "224")),
            Town("Oak Park", "IL", ("60302", "60304"), ("708",)),
        ),
        "America/Chicago",
    ),
    Metro(
        "DCA",
        (
            Town("Washington", "DC", ("20001", "20002", "20007", "20009"), ("202",)),
            Town("Arlington", "VA", ("22201", "22203"), ("703", "571")),
            Town("Bethesda", "MD", ("20814",), ("301", "240")),
        ),
        "America/New_York",
    ),
)  # fmt: skip

#: Places with no store: their people only ever buy online.
ONLINE_TOWNS: tuple[Town, ...] = (
    Town("Austin", "TX", ("78701", "78704", "78751"), ("512", "737")),
    Town("Seattle", "WA", ("98101", "98103", "98122"), ("206",)),
    Town("Denver", "CO", ("80205", "80211", "80218"), ("303", "720")),
    Town("Los Angeles", "CA", ("90026", "90039", "90042"), ("213", "323")),
    Town("San Francisco", "CA", ("94110", "94117"), ("415", "628")),
    Town("Portland", "OR", ("97209", "97214"), ("503", "971")),
    Town("Atlanta", "GA", ("30306", "30307"), ("404", "470")),
    Town("Minneapolis", "MN", ("55405", "55408"), ("612",)),
    Town("Nashville", "TN", ("37203", "37206"), ("615",)),
    Town("Miami", "FL", ("33130", "33137"), ("305", "786")),
    Town("Pittsburgh", "PA", ("15206", "15213"), ("412",)),
    Town("Baltimore", "MD", ("21224", "21231"), ("410", "443")),
)

#: Sales tax applied at checkout, by region of the store (in-store) or ship-to (online).
#: Rounded combined state + local rates; close enough for a demo and stable for tests.
TAX_RATES: dict[str, str] = {
    "NY": "0.08875",
    "NJ": "0.06625",
    "MA": "0.0625",
    "PA": "0.08",
    "IL": "0.1025",
    "DC": "0.06",
    "VA": "0.06",
    "MD": "0.06",
    "TX": "0.0825",
    "WA": "0.1035",
    "CO": "0.0881",
    "CA": "0.095",
    "OR": "0",
    "GA": "0.089",
    "MN": "0.0803",
    "TN": "0.0975",
    "FL": "0.07",
}

EMAIL_CAMPAIGNS: tuple[str, ...] = (
    "Fall Layers Edit",
    "New In: Home",
    "The Weekend Tee Restock",
    "Members Double Points Week",
    "Cozy Season Throws",
    "Gift Guide: Under $50",
    "Last Call: Summer Linen",
    "Store Events This Month",
    "Care Guide: Wool & Cashmere",
    "Back in Stock: Canvas Totes",
    "Early Access: Holiday",
    "Pick Up In Store, Same Day",
)
