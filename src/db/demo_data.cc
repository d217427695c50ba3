#include "db/demo_data.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace helios::db {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness. std:: distributions differ between standard libraries, so every
// draw goes through this generator (splitmix64) and integer arithmetic.

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform integer in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(Next() % span);
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // Index drawn with probability proportional to integer weights.
  size_t Weighted(std::span<const int> weights) {
    int64_t total = 0;
    for (int w : weights) total += w;
    int64_t r = Range(0, total - 1);
    for (size_t i = 0; i < weights.size(); ++i) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.size() - 1;
  }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(Range(0, static_cast<int64_t>(i) - 1));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  uint64_t state_;
};

// Draws an index from cumulative weights (ascending, last = total) by binary search.
size_t DrawCumulative(Rng& rng, const std::vector<double>& cumulative, size_t prefix) {
  const double r = rng.Unit() * cumulative[prefix - 1];
  auto it = std::upper_bound(cumulative.begin(), cumulative.begin() + static_cast<long>(prefix), r);
  return std::min(static_cast<size_t>(it - cumulative.begin()), prefix - 1);
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers: a date is a day number (days since 1970-01-01).

int DayNumber(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return static_cast<int>(sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count());
}

std::chrono::year_month_day Civil(int day_number) {
  using namespace std::chrono;
  return year_month_day{sys_days{days{day_number}}};
}

std::string IsoDate(int day_number) {
  const auto ymd = Civil(day_number);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// ---------------------------------------------------------------------------------------------
// Reference data.

constexpr const char* kRegions[] = {"North America", "Europe", "Asia Pacific", "Latin America",
                                    "Middle East & Africa"};

struct Country {
  const char* name;
  int region_id;
  int weight;  // share of customers
  std::vector<const char*> cities;
};

const std::vector<Country>& Countries() {
  static const std::vector<Country> kCountries = {
      {"United States", 1, 30, {"New York", "Chicago", "Los Angeles", "Houston", "Seattle"}},
      {"Canada", 1, 6, {"Toronto", "Vancouver", "Montreal"}},
      {"Germany", 2, 12, {"Berlin", "Munich", "Hamburg", "Frankfurt"}},
      {"United Kingdom", 2, 11, {"London", "Manchester", "Edinburgh"}},
      {"France", 2, 8, {"Paris", "Lyon", "Marseille"}},
      {"Spain", 2, 5, {"Madrid", "Barcelona", "Valencia"}},
      {"Italy", 2, 5, {"Rome", "Milan", "Naples"}},
      {"Netherlands", 2, 3, {"Amsterdam", "Rotterdam", "Utrecht"}},
      {"Sweden", 2, 2, {"Stockholm", "Gothenburg"}},
      {"Poland", 2, 3, {"Warsaw", "Krakow", "Wroclaw"}},
      {"Japan", 3, 5, {"Tokyo", "Osaka", "Yokohama"}},
      {"Australia", 3, 4, {"Sydney", "Melbourne", "Brisbane", "Perth"}},
      {"India", 3, 4, {"Mumbai", "Delhi", "Bangalore"}},
      {"Mexico", 4, 4, {"Mexico City", "Guadalajara", "Monterrey"}},
      {"Brazil", 4, 4, {"Sao Paulo", "Rio de Janeiro", "Brasilia"}},
      {"Argentina", 4, 2, {"Buenos Aires", "Cordoba"}},
      {"United Arab Emirates", 5, 2, {"Dubai", "Abu Dhabi"}},
      {"South Africa", 5, 2, {"Johannesburg", "Cape Town", "Durban"}},
  };
  return kCountries;
}

constexpr const char* kFirstNames[] = {
    "James",   "Mary",      "John",    "Patricia",  "Robert",    "Jennifer", "Michael", "Linda",
    "William", "Elizabeth", "David",   "Barbara",   "Richard",   "Susan",    "Joseph",  "Jessica",
    "Thomas",  "Sarah",     "Charles", "Karen",     "Daniel",    "Nancy",    "Matthew", "Lisa",
    "Anthony", "Emma",      "Mark",    "Olivia",    "Paul",      "Sophia",   "Steven",  "Isabella",
    "Andrew",  "Mia",       "Kenneth", "Charlotte", "Kevin",     "Amelia",   "Brian",   "Harper",
    "George",  "Evelyn",    "Lukas",   "Hannah",    "Felix",     "Lena",     "Pierre",  "Camille",
    "Louis",   "Chloe",     "Marco",   "Giulia",    "Alejandro", "Lucia",    "Pablo",   "Carmen",
    "Hiroshi", "Yuki",      "Kenji",   "Aiko",      "Rahul",     "Priya",    "Arjun",   "Ananya",
    "Lucas",   "Beatriz",   "Mateo",   "Valentina", "Jan",       "Anna",     "Piotr",   "Zofia",
    "Erik",    "Astrid",    "Oliver",  "Grace",     "Noah",      "Ava",      "Ethan",   "Zoe",
};

constexpr const char* kLastNames[] = {
    "Smith",     "Johnson",   "Williams",   "Brown",     "Jones",     "Garcia",   "Miller",
    "Davis",     "Rodriguez", "Martinez",   "Hernandez", "Lopez",     "Gonzalez", "Wilson",
    "Anderson",  "Thomas",    "Taylor",     "Moore",     "Jackson",   "Martin",   "Lee",
    "Thompson",  "White",     "Harris",     "Clark",     "Lewis",     "Robinson", "Walker",
    "Young",     "Allen",     "King",       "Wright",    "Scott",     "Green",    "Baker",
    "Adams",     "Nelson",    "Hill",       "Campbell",  "Mitchell",  "Roberts",  "Carter",
    "Mueller",   "Schmidt",   "Schneider",  "Fischer",   "Weber",     "Becker",   "Dubois",
    "Bernard",   "Moreau",    "Laurent",    "Rossi",     "Russo",     "Ferrari",  "Bianchi",
    "Fernandez", "Sanchez",   "Perez",      "Tanaka",    "Suzuki",    "Watanabe", "Sato",
    "Sharma",    "Patel",     "Singh",      "Kumar",     "Silva",     "Santos",   "Oliveira",
    "Kowalski",  "Nowak",     "Wisniewski", "Andersson", "Johansson", "Nilsson",  "de Vries",
    "Jansen",    "Murphy",    "Kelly",
};

constexpr const char* kEmailDomains[] = {"example.com", "example.net", "example.org"};

enum class NameStyle { kPrefix, kSuffix, kTitle };

struct BaseProduct {
  const char* name;
  int min_dollars;
  int max_dollars;
};

struct Category {
  const char* name;
  const char* description;
  NameStyle style;
  std::vector<const char*> modifiers;
  std::vector<BaseProduct> bases;
};

const std::vector<Category>& Categories() {
  static const std::vector<Category> kCategories = {
      {"Electronics",
       "Phones, audio, cameras and home entertainment",
       NameStyle::kPrefix,
       {"Nova", "Zenith", "Pulse", "Aura"},
       {{"Bluetooth Speaker", 25, 180},
        {"Noise-Cancelling Headphones", 80, 400},
        {"Wireless Earbuds", 30, 250},
        {"4K Television", 350, 2400},
        {"Smartphone", 200, 1300},
        {"Digital Camera", 250, 1800},
        {"Smartwatch", 100, 600},
        {"Soundbar", 120, 800},
        {"Tablet", 150, 1100},
        {"Portable Charger", 15, 80}}},
      {"Computers",
       "Laptops, desktops, monitors and accessories",
       NameStyle::kSuffix,
       {"Pro", "Ultra", "Basic", "Plus"},
       {{"Wireless Mouse", 15, 90},
        {"Mechanical Keyboard", 50, 220},
        {"Laptop", 500, 2500},
        {"Desktop PC", 450, 2200},
        {"27-inch Monitor", 180, 900},
        {"USB-C Hub", 20, 90},
        {"External SSD", 60, 400},
        {"Webcam", 30, 200},
        {"Wi-Fi Router", 50, 350},
        {"Laser Printer", 120, 700}}},
      {"Office Supplies",
       "Paper, pens, organisers and everyday office needs",
       NameStyle::kPrefix,
       {"Everyday", "Premium", "Recycled", "Heavy-Duty"},
       {{"Ballpoint Pens", 3, 15},
        {"Sticky Notes", 2, 12},
        {"Stapler", 5, 35},
        {"Printer Paper", 5, 25},
        {"File Folders", 6, 30},
        {"Desk Organizer", 10, 60},
        {"Whiteboard", 25, 200},
        {"Label Maker", 25, 120},
        {"Notebook", 3, 25},
        {"Paper Shredder", 40, 300}}},
      {"Furniture",
       "Desks, chairs, storage and furniture for home and office",
       NameStyle::kPrefix,
       {"Oak", "Walnut", "Pine", "Steel", "White"},
       {{"Desk", 150, 1200},
        {"Office Chair", 90, 900},
        {"Bookshelf", 80, 600},
        {"Dining Table", 250, 2000},
        {"Filing Cabinet", 100, 500},
        {"Sofa", 500, 2400},
        {"Bed Frame", 200, 1500},
        {"Nightstand", 60, 350},
        {"Coffee Table", 90, 700},
        {"Bar Stool", 40, 250}}},
      {"Books",
       "Fiction and non-fiction in print",
       NameStyle::kTitle,
       {"Silent", "Hidden", "Last", "Golden", "Broken", "Distant"},
       {{"River", 8, 30},
        {"Garden", 8, 30},
        {"Kingdom", 10, 35},
        {"Lighthouse", 8, 28},
        {"Promise", 8, 28},
        {"Horizon", 10, 40},
        {"Empire", 12, 45}}},
      {"Clothing",
       "Everyday and outdoor clothing",
       NameStyle::kPrefix,
       {"Classic", "Slim-Fit", "Vintage", "Essential"},
       {{"T-Shirt", 8, 40},
        {"Hoodie", 25, 90},
        {"Denim Jeans", 30, 120},
        {"Rain Jacket", 45, 220},
        {"Wool Sweater", 35, 160},
        {"Polo Shirt", 18, 70},
        {"Chino Pants", 25, 90},
        {"Winter Coat", 80, 400},
        {"Dress Shirt", 25, 110},
        {"Fleece Vest", 25, 100}}},
      {"Shoes",
       "Running, hiking, casual and formal footwear",
       NameStyle::kPrefix,
       {"Classic", "Lightweight", "Waterproof", "Comfort"},
       {{"Running Shoes", 50, 200},
        {"Hiking Boots", 70, 260},
        {"Leather Loafers", 60, 220},
        {"Canvas Sneakers", 30, 90},
        {"Sandals", 15, 80},
        {"Chelsea Boots", 80, 280},
        {"Trail Runners", 70, 190},
        {"Slippers", 12, 45},
        {"Dress Shoes", 70, 300},
        {"Basketball Shoes", 60, 220}}},
      {"Sports & Outdoors",
       "Fitness, camping, cycling and outdoor gear",
       NameStyle::kPrefix,
       {"Alpine", "Summit", "Ridge", "Coastal"},
       {{"Yoga Mat", 15, 90},
        {"Camping Tent", 80, 600},
        {"Sleeping Bag", 40, 250},
        {"Mountain Bike", 400, 2400},
        {"Dumbbell Set", 30, 300},
        {"Hiking Backpack", 45, 250},
        {"Water Bottle", 8, 40},
        {"Tennis Racket", 30, 220},
        {"Kayak Paddle", 40, 180},
        {"Fitness Tracker", 40, 250}}},
      {"Toys & Games",
       "Toys, puzzles and games for all ages",
       NameStyle::kPrefix,
       {"Deluxe", "Junior", "Classic", "Family"},
       {{"Building Blocks Set", 15, 120},
        {"Board Game", 15, 70},
        {"Jigsaw Puzzle", 10, 35},
        {"Remote Control Car", 25, 150},
        {"Plush Bear", 8, 40},
        {"Dollhouse", 40, 250},
        {"Science Kit", 20, 90},
        {"Card Game", 5, 25},
        {"Wooden Train Set", 25, 140},
        {"Drone", 50, 400}}},
      {"Home & Kitchen",
       "Appliances, cookware and household essentials",
       NameStyle::kPrefix,
       {"Essential", "Deluxe", "Compact", "Professional"},
       {{"Coffee Maker", 25, 300},
        {"Blender", 30, 250},
        {"Nonstick Frying Pan", 20, 120},
        {"Chef Knife", 25, 180},
        {"Air Fryer", 60, 250},
        {"Stand Mixer", 150, 650},
        {"Toaster", 20, 120},
        {"Cookware Set", 80, 600},
        {"Electric Kettle", 20, 120},
        {"Vacuum Cleaner", 80, 700}}},
      {"Beauty",
       "Skin care, hair care and personal care",
       NameStyle::kPrefix,
       {"Botanical", "Radiant", "Pure", "Silk"},
       {{"Moisturizing Cream", 8, 80},
        {"Shampoo", 5, 35},
        {"Conditioner", 5, 35},
        {"Lipstick", 6, 45},
        {"Perfume", 25, 180},
        {"Hair Dryer", 25, 250},
        {"Sunscreen", 7, 35},
        {"Face Serum", 12, 120},
        {"Nail Polish Set", 8, 40},
        {"Electric Toothbrush", 25, 200}}},
      {"Groceries",
       "Pantry staples, snacks and drinks",
       NameStyle::kPrefix,
       {"Farmhouse", "Gourmet", "Family Size", "Premium"},
       {{"Coffee Beans", 8, 30},
        {"Green Tea", 4, 18},
        {"Olive Oil", 8, 35},
        {"Dark Chocolate", 2, 12},
        {"Basmati Rice", 5, 25},
        {"Pasta", 2, 8},
        {"Almonds", 6, 25},
        {"Honey", 5, 20},
        {"Maple Syrup", 7, 28},
        {"Granola", 4, 12}}},
  };
  return kCategories;
}

constexpr int kCustomers = 5000;
constexpr int kProductsPerCategory = 25;
constexpr int kOrders = 40000;

constexpr const char* kTitleRep = "Sales Representative";
constexpr const char* kTitleSenior = "Senior Sales Representative";
constexpr const char* kTitleAccount = "Account Manager";
constexpr const char* kTitleManager = "Sales Manager";

// Weights used by several draws.
constexpr int kItemsPerOrderWeights[] = {20, 25, 25, 18, 12};          // 1..5 items
constexpr int kQuantityWeights[] = {35, 22, 13, 9, 7, 5, 3, 3, 2, 1};  // 1..10
constexpr int kDiscountWeights[] = {70, 10, 10, 6, 4};                 // 0 .. 0.2
constexpr double kDiscounts[] = {0.0, 0.05, 0.1, 0.15, 0.2};
constexpr int kSegmentWeights[] = {60, 15, 25};
constexpr const char* kSegments[] = {"Consumer", "Corporate", "Small Business"};
constexpr double kSegmentActivity[] = {1.0, 1.6, 1.3};
// Monthly seasonality of orders, January first: busier in November and December.
constexpr double kMonthSeason[] = {0.85, 0.8,  0.9, 0.95, 1.0,  0.95,
                                   0.9,  0.95, 1.0, 1.05, 1.45, 1.7};

// ---------------------------------------------------------------------------------------------
// Generated rows.

struct Employee {
  std::string first_name, last_name, email, title;
  int region_id = 0;
  int hire_day = 0;
  double salary = 0;
};

struct Customer {
  std::string name, email, city, country, segment;
  int signup_day = 0;
  int region_id = 0;
  int employee_id = 0;  // 0: no account rep (NULL)
  double activity = 1;
};

struct Product {
  std::string name;
  int category_id = 0;
  int64_t price_cents = 0;
  int64_t cost_cents = 0;
  int stock = 0;
  bool discontinued = false;
};

std::string EmailLocalPart(std::string_view first, std::string_view last) {
  std::string out;
  auto add = [&](std::string_view s) {
    for (char c : s)
      if (std::isalpha(static_cast<unsigned char>(c)))
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  };
  add(first);
  out.push_back('.');
  add(last);
  return out;
}

std::vector<Employee> MakeEmployees(Rng& rng) {
  // Per region: one manager, then account managers, senior reps and reps.
  struct Staffing {
    int region_id, account, senior, rep;
  };
  constexpr Staffing kStaffing[] = {
      {1, 3, 4, 7}, {2, 3, 4, 9}, {3, 2, 2, 3}, {4, 1, 1, 2}, {5, 1, 1, 2}};
  std::vector<std::pair<int, const char*>> slots;
  for (const auto& s : kStaffing) {
    slots.emplace_back(s.region_id, kTitleManager);
    for (int i = 0; i < s.account; ++i) slots.emplace_back(s.region_id, kTitleAccount);
    for (int i = 0; i < s.senior; ++i) slots.emplace_back(s.region_id, kTitleSenior);
    for (int i = 0; i < s.rep; ++i) slots.emplace_back(s.region_id, kTitleRep);
  }
  rng.Shuffle(slots);

  std::set<std::string> used;
  std::vector<Employee> out;
  const int hire_from = DayNumber(2015, 1, 1);
  const int hire_to = DayNumber(2022, 12, 31);
  for (const auto& [region_id, title] : slots) {
    Employee e;
    do {
      e.first_name = kFirstNames[rng.Range(0, std::size(kFirstNames) - 1)];
      e.last_name = kLastNames[rng.Range(0, std::size(kLastNames) - 1)];
    } while (!used.insert(e.first_name + " " + e.last_name).second);
    e.email = EmailLocalPart(e.first_name, e.last_name) + "@example.com";
    e.title = title;
    e.region_id = region_id;
    const std::string_view t = title;
    // Managers have been around longer.
    const int latest = t == kTitleManager ? DayNumber(2018, 12, 31) : hire_to;
    e.hire_day = static_cast<int>(rng.Range(hire_from, latest));
    int lo = 45000, hi = 65000;
    if (t == kTitleSenior) lo = 60000, hi = 85000;
    if (t == kTitleAccount) lo = 70000, hi = 95000;
    if (t == kTitleManager) lo = 95000, hi = 140000;
    e.salary = static_cast<double>(rng.Range(lo / 100, hi / 100) * 100);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Customer> MakeCustomers(Rng& rng, const std::vector<Employee>& employees) {
  std::vector<int> country_weights;
  for (const auto& c : Countries()) country_weights.push_back(c.weight);

  // Sign-ups grow year over year.
  std::vector<double> day_cumulative;
  const int first_day = DayNumber(2020, 1, 1);
  const int last_day = DayNumber(2025, 12, 31);
  double sum = 0;
  for (int d = first_day; d <= last_day; ++d) {
    const int year = static_cast<int>(Civil(d).year());
    sum += 0.7 + 0.15 * (year - 2020);
    day_cumulative.push_back(sum);
  }
  std::vector<int> signup_days;
  for (int i = 0; i < kCustomers; ++i)
    signup_days.push_back(
        first_day + static_cast<int>(DrawCumulative(rng, day_cumulative, day_cumulative.size())));
  std::sort(signup_days.begin(), signup_days.end());

  std::set<std::string> used_emails;
  std::vector<Customer> out;
  for (int i = 0; i < kCustomers; ++i) {
    Customer c;
    const std::string first = kFirstNames[rng.Range(0, std::size(kFirstNames) - 1)];
    const std::string last = kLastNames[rng.Range(0, std::size(kLastNames) - 1)];
    c.name = first + " " + last;
    const std::string local = EmailLocalPart(first, last);
    const char* domain = kEmailDomains[rng.Range(0, std::size(kEmailDomains) - 1)];
    c.email = local + "@" + domain;
    for (int n = 2; !used_emails.insert(c.email).second; ++n)
      c.email = fmt::format("{}{}@{}", local, n, domain);

    const Country& country = Countries()[rng.Weighted(country_weights)];
    std::vector<int> city_weights;
    for (size_t k = 0; k < country.cities.size(); ++k)
      city_weights.push_back(static_cast<int>(country.cities.size() - k) + 1);
    c.city = country.cities[rng.Weighted(city_weights)];
    c.country = country.name;
    c.region_id = country.region_id;
    const size_t segment = rng.Weighted(kSegmentWeights);
    c.segment = kSegments[segment];
    c.signup_day = signup_days[static_cast<size_t>(i)];
    const double u = rng.Unit();
    c.activity = (0.3 + 3.0 * u * u * u) * kSegmentActivity[segment];

    // The account's sales rep: a non-manager in the customer's region, hired by sign-up.
    // A few accounts (web sign-ups) have no rep.
    if (!rng.Chance(0.03)) {
      std::vector<int> candidates;
      for (size_t k = 0; k < employees.size(); ++k) {
        const Employee& e = employees[k];
        if (e.region_id == c.region_id && e.title != kTitleManager && e.hire_day <= c.signup_day)
          candidates.push_back(static_cast<int>(k) + 1);
      }
      if (candidates.empty()) {
        for (size_t k = 0; k < employees.size(); ++k)
          if (employees[k].region_id == c.region_id) candidates.push_back(static_cast<int>(k) + 1);
      }
      c.employee_id = candidates[rng.Range(0, static_cast<int64_t>(candidates.size()) - 1)];
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Product> MakeProducts(Rng& rng) {
  std::vector<Product> out;
  std::set<std::string> used;
  int category_id = 0;
  for (const Category& category : Categories()) {
    ++category_id;
    std::vector<std::pair<size_t, size_t>> combos;  // (base, modifier)
    for (size_t b = 0; b < category.bases.size(); ++b)
      for (size_t m = 0; m < category.modifiers.size(); ++m) combos.emplace_back(b, m);
    rng.Shuffle(combos);
    combos.resize(kProductsPerCategory);
    std::sort(combos.begin(), combos.end());
    for (const auto& [b, m] : combos) {
      const BaseProduct& base = category.bases[b];
      const char* modifier = category.modifiers[m];
      Product p;
      switch (category.style) {
        case NameStyle::kPrefix:
          p.name = fmt::format("{} {}", modifier, base.name);
          break;
        case NameStyle::kSuffix:
          p.name = fmt::format("{} {}", base.name, modifier);
          break;
        case NameStyle::kTitle:
          p.name = fmt::format("The {} {}", modifier, base.name);
          break;
      }
      used.insert(p.name);
      p.category_id = category_id;
      // Prices end in .99: between min_dollars + 0.99 and max_dollars - 0.01.
      p.price_cents = rng.Range(base.min_dollars, base.max_dollars - 1) * 100 + 99;
      p.cost_cents = p.price_cents * rng.Range(40, 80) / 100;
      p.stock = static_cast<int>(rng.Range(0, 500));
      p.discontinued = rng.Chance(0.05);
      if (p.discontinued) p.stock = 0;
      out.push_back(std::move(p));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SQLite plumbing.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

std::unexpected<Error> SqliteFailure(sqlite3* db, std::string_view what) {
  return Fail(ErrorCode::kDatabaseError,
              fmt::format("building the demo database failed ({}): {}", what, sqlite3_errmsg(db)));
}

Result<void> Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return Fail(ErrorCode::kDatabaseError, "building the demo database failed: " + text);
  }
  return {};
}

Result<StmtPtr> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    return SqliteFailure(db, "prepare");
  return StmtPtr(stmt);
}

// Binds values to ?1, ?2, ... in order, runs the insert and resets the statement.
class Inserter {
 public:
  Inserter(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Inserter& Int(int64_t v) {
    sqlite3_bind_int64(stmt_, ++index_, v);
    return *this;
  }
  Inserter& Real(double v) {
    sqlite3_bind_double(stmt_, ++index_, v);
    return *this;
  }
  Inserter& Text(std::string_view v) {
    sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Inserter& Null() {
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  Result<void> Run() {
    index_ = 0;
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) return SqliteFailure(db_, "insert");
    return {};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int index_ = 0;
};

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE regions(
  region_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE employees(
  employee_id INTEGER PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT NOT NULL,
  title TEXT NOT NULL,
  region_id INTEGER NOT NULL REFERENCES regions(region_id),
  hire_date DATE NOT NULL,
  salary REAL NOT NULL
);
CREATE TABLE customers(
  customer_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  city TEXT NOT NULL,
  country TEXT NOT NULL,
  segment TEXT NOT NULL,
  signup_date DATE NOT NULL,
  employee_id INTEGER REFERENCES employees(employee_id)
);
CREATE TABLE categories(
  category_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT
);
CREATE TABLE products(
  product_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  category_id INTEGER NOT NULL REFERENCES categories(category_id),
  unit_price REAL NOT NULL,
  cost REAL NOT NULL,
  stock_quantity INTEGER NOT NULL,
  discontinued INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE orders(
  order_id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
  employee_id INTEGER NOT NULL REFERENCES employees(employee_id),
  order_date DATE NOT NULL,
  ship_date DATE,
  status TEXT NOT NULL,
  total_amount REAL NOT NULL
);
CREATE TABLE order_items(
  order_item_id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(order_id),
  product_id INTEGER NOT NULL REFERENCES products(product_id),
  quantity INTEGER NOT NULL,
  unit_price REAL NOT NULL,
  discount REAL NOT NULL DEFAULT 0
);
)sql";

constexpr const char* kIndexSql = R"sql(
CREATE INDEX idx_employees_region_id ON employees(region_id);
CREATE INDEX idx_customers_employee_id ON customers(employee_id);
CREATE INDEX idx_products_category_id ON products(category_id);
CREATE INDEX idx_orders_customer_id ON orders(customer_id);
CREATE INDEX idx_orders_employee_id ON orders(employee_id);
CREATE INDEX idx_orders_order_date ON orders(order_date);
CREATE INDEX idx_order_items_order_id ON order_items(order_id);
CREATE INDEX idx_order_items_product_id ON order_items(product_id);
-- The columns questions filter on most, compared without regard to case as the engine does.
CREATE INDEX idx_customers_country ON customers(country COLLATE NOCASE);
CREATE INDEX idx_customers_segment ON customers(segment COLLATE NOCASE);
CREATE INDEX idx_orders_status ON orders(status COLLATE NOCASE);
)sql";

constexpr const char* kTotalsSql = R"sql(
UPDATE orders SET total_amount = t.total
FROM (SELECT order_id, ROUND(SUM(quantity * unit_price * (1 - discount)), 2) AS total
      FROM order_items GROUP BY order_id) AS t
WHERE orders.order_id = t.order_id;
)sql";

Result<DemoSummary> Populate(sqlite3* db, uint64_t seed) {
  // Independent streams per table, so adding a column to one table does not reshuffle others.
  Rng employee_rng(seed ^ 0x1111);
  Rng customer_rng(seed ^ 0x2222);
  Rng product_rng(seed ^ 0x3333);
  Rng order_rng(seed ^ 0x4444);

  const std::vector<Employee> employees = MakeEmployees(employee_rng);
  const std::vector<Customer> customers = MakeCustomers(customer_rng, employees);
  const std::vector<Product> products = MakeProducts(product_rng);

  if (auto r = Exec(db, "BEGIN"); !r) return std::unexpected(r.error());
  if (auto r = Exec(db, kSchemaSql); !r) return std::unexpected(r.error());

  DemoSummary summary;
  auto insert_all = [&](const char* sql, auto&& rows, auto&& bind) -> Result<void> {
    auto stmt = Prepare(db, sql);
    if (!stmt) return std::unexpected(stmt.error());
    Inserter ins(db, stmt->get());
    for (const auto& row : rows) {
      bind(ins, row);
      if (auto r = ins.Run(); !r) return r;
    }
    return {};
  };

  std::vector<int> region_ids = {1, 2, 3, 4, 5};
  if (auto r = insert_all("INSERT INTO regions VALUES (?1, ?2)", region_ids,
                          [](Inserter& ins, int id) { ins.Int(id).Text(kRegions[id - 1]); });
      !r)
    return std::unexpected(r.error());

  int64_t id = 0;
  if (auto r =
          insert_all("INSERT INTO employees VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", employees,
                     [&](Inserter& ins, const Employee& e) {
                       ins.Int(++id).Text(e.first_name).Text(e.last_name).Text(e.email);
                       ins.Text(e.title).Int(e.region_id).Text(IsoDate(e.hire_day));
                       ins.Real(e.salary);
                     });
      !r)
    return std::unexpected(r.error());

  id = 0;
  if (auto r =
          insert_all("INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", customers,
                     [&](Inserter& ins, const Customer& c) {
                       ins.Int(++id).Text(c.name).Text(c.email).Text(c.city).Text(c.country);
                       ins.Text(c.segment).Text(IsoDate(c.signup_day));
                       if (c.employee_id == 0)
                         ins.Null();
                       else
                         ins.Int(c.employee_id);
                     });
      !r)
    return std::unexpected(r.error());

  id = 0;
  if (auto r = insert_all("INSERT INTO categories VALUES (?1, ?2, ?3)", Categories(),
                          [&](Inserter& ins, const Category& c) {
                            ins.Int(++id).Text(c.name).Text(c.description);
                          });
      !r)
    return std::unexpected(r.error());

  id = 0;
  if (auto r = insert_all("INSERT INTO products VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", products,
                          [&](Inserter& ins, const Product& p) {
                            ins.Int(++id).Text(p.name).Int(p.category_id);
                            ins.Real(static_cast<double>(p.price_cents) / 100.0);
                            ins.Real(static_cast<double>(p.cost_cents) / 100.0);
                            ins.Int(p.stock).Int(p.discontinued ? 1 : 0);
                          });
      !r)
    return std::unexpected(r.error());

  // Orders: days weighted by growth over the period, season and weekday.
  const int first_day = DayNumber(2023, 1, 1);
  const int last_day = DayNumber(2025, 12, 31);
  std::vector<double> day_cumulative;
  double sum = 0;
  for (int d = first_day; d <= last_day; ++d) {
    const auto ymd = Civil(d);
    const double growth = 1.0 + 0.22 * (d - first_day) / 365.0;
    const unsigned weekday = std::chrono::weekday(std::chrono::sys_days(ymd)).c_encoding();
    const double weekday_factor = (weekday == 0 || weekday == 6) ? 0.85 : 1.0;
    sum += growth * kMonthSeason[static_cast<unsigned>(ymd.month()) - 1] * weekday_factor;
    day_cumulative.push_back(sum);
  }
  std::vector<int> order_days;
  for (int i = 0; i < kOrders; ++i)
    order_days.push_back(first_day + static_cast<int>(DrawCumulative(order_rng, day_cumulative,
                                                                     day_cumulative.size())));
  std::sort(order_days.begin(), order_days.end());

  // Customers are in sign-up order; a customer orders only after signing up, the more active
  // ones more often.
  std::vector<double> customer_cumulative;
  sum = 0;
  for (const Customer& c : customers) {
    sum += c.activity;
    customer_cumulative.push_back(sum);
  }
  std::vector<int> customer_signup;
  for (const Customer& c : customers) customer_signup.push_back(c.signup_day);

  std::vector<double> product_cumulative;
  sum = 0;
  for (const Product& p : products) {
    const double u = order_rng.Unit();
    sum += (0.3 + 4.0 * u * u) / std::sqrt(1.0 + static_cast<double>(p.price_cents) / 5000.0);
    product_cumulative.push_back(sum);
  }
  const int discontinued_from = DayNumber(2025, 7, 1);

  auto order_stmt = Prepare(db, "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!order_stmt) return std::unexpected(order_stmt.error());
  auto item_stmt = Prepare(db, "INSERT INTO order_items VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!item_stmt) return std::unexpected(item_stmt.error());
  Inserter order_ins(db, order_stmt->get());
  Inserter item_ins(db, item_stmt->get());

  int64_t order_item_id = 0;
  for (int i = 0; i < kOrders; ++i) {
    const int order_id = i + 1;
    const int day = order_days[static_cast<size_t>(i)];
    const size_t signed_up =
        static_cast<size_t>(std::upper_bound(customer_signup.begin(), customer_signup.end(), day) -
                            customer_signup.begin());
    const size_t customer_index =
        DrawCumulative(order_rng, customer_cumulative, std::max<size_t>(signed_up, 1));
    const Customer& customer = customers[customer_index];

    int employee_id = customer.employee_id;
    if (employee_id == 0 || order_rng.Chance(0.15)) {
      std::vector<int> region_staff;
      for (size_t k = 0; k < employees.size(); ++k)
        if (employees[k].region_id == customer.region_id)
          region_staff.push_back(static_cast<int>(k) + 1);
      employee_id = region_staff[order_rng.Range(0, static_cast<int64_t>(region_staff.size()) - 1)];
    }

    // Status by the order's age at the end of the period.
    const int age = last_day - day;
    const char* status = "delivered";
    const double r = order_rng.Unit();
    if (age <= 2) {
      status = r < 0.7 ? "processing" : r < 0.95 ? "shipped" : "cancelled";
    } else if (age <= 7) {
      status = r < 0.15 ? "processing" : r < 0.9 ? "shipped" : r < 0.95 ? "cancelled" : "delivered";
    } else if (age <= 14) {
      status = r < 0.3 ? "shipped" : r < 0.95 ? "delivered" : "cancelled";
    } else {
      status = r < 0.88 ? "delivered" : r < 0.93 ? "cancelled" : "returned";
    }
    const std::string_view st = status;
    if (age < 1 && st == "shipped") status = "processing";
    const int ship_offset = static_cast<int>(order_rng.Range(1, std::max(1, std::min(7, age))));

    order_ins.Int(order_id).Int(static_cast<int64_t>(customer_index) + 1).Int(employee_id);
    order_ins.Text(IsoDate(day));
    if (std::string_view(status) == "processing" || std::string_view(status) == "cancelled")
      order_ins.Null();
    else
      order_ins.Text(IsoDate(day + ship_offset));
    order_ins.Text(status).Real(0.0);
    if (auto res = order_ins.Run(); !res) return std::unexpected(res.error());

    const int item_count = static_cast<int>(order_rng.Weighted(kItemsPerOrderWeights)) + 1;
    std::vector<size_t> chosen;
    while (static_cast<int>(chosen.size()) < item_count) {
      const size_t p = DrawCumulative(order_rng, product_cumulative, products.size());
      if (std::find(chosen.begin(), chosen.end(), p) != chosen.end()) continue;
      if (products[p].discontinued && day >= discontinued_from) continue;
      chosen.push_back(p);
    }
    for (size_t p : chosen) {
      const Product& product = products[p];
      int quantity = static_cast<int>(order_rng.Weighted(kQuantityWeights)) + 1;
      if (product.price_cents >= 30000) quantity = 1 + (quantity - 1) / 4;
      const double discount = kDiscounts[order_rng.Weighted(kDiscountWeights)];
      item_ins.Int(++order_item_id).Int(order_id).Int(static_cast<int64_t>(p) + 1).Int(quantity);
      item_ins.Real(static_cast<double>(product.price_cents) / 100.0).Real(discount);
      if (auto res = item_ins.Run(); !res) return std::unexpected(res.error());
    }
  }
  order_stmt->reset();
  item_stmt->reset();

  if (auto r = Exec(db, kIndexSql); !r) return std::unexpected(r.error());
  if (auto r = Exec(db, kTotalsSql); !r) return std::unexpected(r.error());
  if (auto r = Exec(db, "COMMIT"); !r) return std::unexpected(r.error());
  if (auto r = Exec(db, "ANALYZE"); !r) return std::unexpected(r.error());

  summary.tables = {{"regions", 5},
                    {"employees", static_cast<int64_t>(employees.size())},
                    {"customers", static_cast<int64_t>(customers.size())},
                    {"categories", static_cast<int64_t>(Categories().size())},
                    {"products", static_cast<int64_t>(products.size())},
                    {"orders", kOrders},
                    {"order_items", order_item_id}};
  return summary;
}

std::string FileName(const std::string& path) { return fs::path(path).filename().string(); }

}  // namespace

int64_t DemoSummary::RowCount(std::string_view table) const {
  for (const auto& t : tables)
    if (t.table == table) return t.rows;
  return -1;
}

Result<DemoSummary> WriteDemoDatabase(const std::string& path, uint64_t seed, bool overwrite) {
  if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "no path given for the demo database");
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (fs::exists(status)) {
    if (!overwrite)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("'{}' already exists; refusing to overwrite it (--force replaces it)",
                              FileName(path)));
    if (!fs::is_regular_file(status))
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("'{}' exists and is not a regular file", FileName(path)));
  }

  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot create '{}': {}", FileName(path), std::strerror(errno)));
  close(fd);
  // Removes the temporary file unless it was renamed into place.
  struct TempFile {
    std::string path;
    bool keep = false;
    ~TempFile() {
      if (!keep) {
        std::error_code ignored;
        fs::remove(path, ignored);
      }
    }
  } temp{tmp};

  Result<DemoSummary> summary;
  {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK)
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("cannot open '{}' for writing: {}", FileName(path),
                              raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    if (auto r = Exec(db.get(), "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"); !r)
      return std::unexpected(r.error());
    summary = Populate(db.get(), seed);
    if (!summary) return summary;
    if (sqlite3_close(db.release()) != SQLITE_OK)
      return Fail(ErrorCode::kDatabaseError, "closing the demo database failed");
  }

  fs::permissions(tmp,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  fs::rename(tmp, path, ec);
  if (ec)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot move the demo database into place as '{}': {}", FileName(path),
                            ec.message()));
  temp.keep = true;
  return summary;
}

}  // namespace helios::db
