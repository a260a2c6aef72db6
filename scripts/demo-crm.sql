-- The demonstration CRM that `make run` reaches through policies/systems/wig_crm.yaml: a few
-- contacts (n1@example.test is the person of the demo's story), their event bookings and the
-- eNewsletter list. Made-up people on reserved example.test addresses.
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  member_no TEXT,
  full_name TEXT,
  email TEXT,
  phone TEXT,
  job_title TEXT,
  organisation TEXT,
  membership_ended_on TEXT
);
CREATE TABLE bookings (
  id INTEGER PRIMARY KEY,
  contact_id INTEGER REFERENCES contacts(id),
  event TEXT NOT NULL,
  dietary TEXT,
  booked_on TEXT NOT NULL
);
CREATE TABLE newsletter_subscribers (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL,
  subscribed_on TEXT NOT NULL
);
INSERT INTO contacts VALUES
  (1, NULL, 'Ben Visitor', 'n1@example.test', NULL, 'Policy adviser', 'Example Department', NULL),
  (2, 'M-1002', 'Ada Member', 'ada@example.test', '+447700900002', 'Director', 'Example plc', NULL),
  (3, 'M-1003', 'Cy Former', 'cy@example.test', NULL, 'Analyst', 'Example Ltd', '2018-03-31');
INSERT INTO bookings VALUES
  (1, 1, 'Leadership seminar', 'vegetarian', '2026-09-01'),
  (2, 2, 'Annual conference', NULL, '2026-06-12'),
  (3, 3, 'Mentoring evening', 'wheelchair access', '2017-11-02');
INSERT INTO newsletter_subscribers VALUES
  (1, 'n1@example.test', '2026-10-28'),
  (2, 'ada@example.test', '2025-01-15');
