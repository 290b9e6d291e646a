"""Bundled test data: a TMDB-like movie catalog and a scraped sample database with its expected matches."""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import unicodedata

DATA_DIR = pathlib.Path(__file__).parent / "data"
CATALOG_FILE = "catalog.json"
SAMPLE_FILE = "sample_movies.json"
EXPECTED_FILE = "sample_expected.json"

NOT_FOUND = "not_found"
INVALID = "invalid"

GENRE_IDS = {
    "Action": 28, "Adventure": 12, "Animation": 16, "Comedy": 35, "Crime": 80, "Documentary": 99, "Drama": 18,
    "Family": 10751, "Fantasy": 14, "History": 36, "Horror": 27, "Music": 10402, "Mystery": 9648,
    "Romance": 10749, "Science Fiction": 878, "Thriller": 53, "TV Movie": 10770, "War": 10752, "Western": 37,
}
COUNTRIES = {
    "AU": "Australia", "BE": "Belgium", "CA": "Canada", "CN": "China", "CZ": "Czech Republic", "DE": "Germany",
    "ES": "Spain", "FR": "France", "GB": "United Kingdom", "HK": "Hong Kong", "IT": "Italy", "JP": "Japan",
    "KR": "South Korea", "MX": "Mexico", "NL": "Netherlands", "NZ": "New Zealand", "SE": "Sweden",
    "SU": "Soviet Union", "TW": "Taiwan", "US": "United States of America",
}
# iso_639_1 -> (english_name, native name), as TMDB spells them ("cn" is TMDB's code for Cantonese).
LANGUAGES = {
    "cn": ("Cantonese", "广州话 / 廣州話"), "de": ("German", "Deutsch"), "en": ("English", "English"),
    "es": ("Spanish", "Español"), "fr": ("French", "Français"), "it": ("Italian", "Italiano"),
    "ja": ("Japanese", "日本語"), "ko": ("Korean", "한국어/조선말"), "ru": ("Russian", "Русский"),
    "sv": ("Swedish", "svenska"), "zh": ("Mandarin", "普通话"),
}

# One row per film:
# (tmdb_id, imdb_id, title, original_title, original_language, release_date, runtime, directors, genres,
#  top cast ((name, character), ...), production countries, popularity)
# original_title None: same as title.  imdb_id None: an invented "tt9..." id derived from tmdb_id.
# Ids of 900001 and above are invented (films whose real TMDB id is not certain).
FILMS = (
    # --- Remakes and other films sharing a title ---------------------------------------------------------
    (539, "tt0054215", "Psycho", None, "en", "1960-06-22", 109, ("Alfred Hitchcock",),
     ("Horror", "Thriller", "Mystery"),
     (("Anthony Perkins", "Norman Bates"), ("Janet Leigh", "Marion Crane"),
      ("Vera Miles", "Lila Crane")), ("US",), 30.5),
    (11252, "tt0155975", "Psycho", None, "en", "1998-12-04", 105, ("Gus Van Sant",), ("Horror", "Thriller", "Crime"),
     (("Vince Vaughn", "Norman Bates"), ("Anne Heche", "Marion Crane"),
      ("Julianne Moore", "Lila Crane")), ("US",), 15.3),
    (299, "tt0054135", "Ocean's Eleven", None, "en", "1960-08-10", 127, ("Lewis Milestone",), ("Comedy", "Crime"),
     (("Frank Sinatra", "Danny Ocean"), ("Dean Martin", "Sam Harmon"),
      ("Sammy Davis Jr.", "Josh Howard")), ("US",), 12.6),
    (161, "tt0240772", "Ocean's Eleven", None, "en", "2001-12-07", 116, ("Steven Soderbergh",), ("Thriller", "Crime"),
     (("George Clooney", "Danny Ocean"), ("Brad Pitt", "Rusty Ryan"), ("Matt Damon", "Linus Caldwell")), ("US",), 47.3),
    (900042, None, "Scarface", None, "en", "1932-04-09", 93, ("Howard Hawks",), ("Action", "Crime", "Drama"),
     (("Paul Muni", "Tony Camonte"), ("Ann Dvorak", "Cesca Camonte"), ("George Raft", "Guino Rinaldo")), ("US",), 11.8),
    (111, "tt0086250", "Scarface", None, "en", "1983-12-09", 170, ("Brian De Palma",), ("Action", "Crime", "Drama"),
     (("Al Pacino", "Tony Montana"), ("Michelle Pfeiffer", "Elvira Hancock"),
      ("Steven Bauer", "Manny Ribera")), ("US",), 57.4),
    (1091, "tt0084787", "The Thing", None, "en", "1982-06-25", 109, ("John Carpenter",),
     ("Horror", "Mystery", "Science Fiction"),
     (("Kurt Russell", "R.J. MacReady"), ("Wilford Brimley", "Dr. Blair"), ("Keith David", "Childs")), ("US",), 39.2),
    (60935, "tt0905372", "The Thing", None, "en", "2011-10-12", 103, ("Matthijs van Heijningen Jr.",),
     ("Horror", "Mystery", "Science Fiction"),
     (("Mary Elizabeth Winstead", "Kate Lloyd"), ("Joel Edgerton", "Sam Carter")), ("US", "CA"), 24.1),
    (900043, None, "True Grit", None, "en", "1969-06-11", 128, ("Henry Hathaway",), ("Western", "Adventure"),
     (("John Wayne", "Rooster Cogburn"), ("Kim Darby", "Mattie Ross"), ("Glen Campbell", "La Boeuf")), ("US",), 14.0),
    (44264, "tt1403865", "True Grit", None, "en", "2010-12-22", 110, ("Joel Coen", "Ethan Coen"),
     ("Drama", "Adventure", "Western"),
     (("Jeff Bridges", "Rooster Cogburn"), ("Hailee Steinfeld", "Mattie Ross"),
      ("Matt Damon", "LaBoeuf")), ("US",), 25.5),
    (11906, "tt0076786", "Suspiria", None, "it", "1977-02-01", 99, ("Dario Argento",), ("Horror",),
     (("Jessica Harper", "Suzy Bannion"), ("Stefania Casini", "Sara"), ("Alida Valli", "Miss Tanner")), ("IT",), 21.6),
    (361292, "tt1034415", "Suspiria", None, "en", "2018-10-26", 152, ("Luca Guadagnino",),
     ("Horror", "Mystery", "Fantasy"),
     (("Dakota Johnson", "Susie Bannion"), ("Tilda Swinton", "Madame Blanc"),
      ("Mia Goth", "Sara")), ("IT", "US"), 19.8),
    (841, "tt0087182", "Dune", None, "en", "1984-12-14", 137, ("David Lynch",), ("Science Fiction", "Adventure"),
     (("Kyle MacLachlan", "Paul Atreides"), ("Francesca Annis", "Lady Jessica"),
      ("Sting", "Feyd-Rautha")), ("US", "MX"), 26.3),
    (438631, "tt1160419", "Dune", None, "en", "2021-09-15", 155, ("Denis Villeneuve",),
     ("Science Fiction", "Adventure"),
     (("Timothée Chalamet", "Paul Atreides"), ("Rebecca Ferguson", "Lady Jessica"),
      ("Oscar Isaac", "Duke Leto Atreides")), ("US", "CA"), 95.7),
    (693134, "tt15239678", "Dune: Part Two", None, "en", "2024-02-27", 167, ("Denis Villeneuve",),
     ("Science Fiction", "Adventure"),
     (("Timothée Chalamet", "Paul Atreides"), ("Zendaya", "Chani")), ("US", "CA"), 130.4),
    (1725, "tt0055614", "West Side Story", None, "en", "1961-10-18", 152, ("Robert Wise", "Jerome Robbins"),
     ("Crime", "Drama", "Music", "Romance"),
     (("Natalie Wood", "Maria"), ("Richard Beymer", "Tony"), ("Rita Moreno", "Anita")), ("US",), 20.4),
    (511809, "tt3581652", "West Side Story", None, "en", "2021-12-08", 156, ("Steven Spielberg",),
     ("Drama", "Romance", "Crime"),
     (("Ansel Elgort", "Tony"), ("Rachel Zegler", "María"), ("Ariana DeBose", "Anita")), ("US",), 34.0),
    (900044, None, "A Star Is Born", None, "en", "1937-04-27", 111, ("William A. Wellman",), ("Drama", "Romance"),
     (("Janet Gaynor", "Esther Blodgett / Vicki Lester"), ("Fredric March", "Norman Maine")), ("US",), 6.9),
    (900045, None, "A Star Is Born", None, "en", "1954-09-29", 176, ("George Cukor",), ("Drama", "Music", "Romance"),
     (("Judy Garland", "Esther Blodgett / Vicki Lester"), ("James Mason", "Norman Maine")), ("US",), 9.7),
    (900046, None, "A Star Is Born", None, "en", "1976-12-18", 139, ("Frank Pierson",), ("Drama", "Music", "Romance"),
     (("Barbra Streisand", "Esther Hoffman"), ("Kris Kristofferson", "John Norman Howard")), ("US",), 11.2),
    (332562, "tt1517451", "A Star Is Born", None, "en", "2018-10-03", 136, ("Bradley Cooper",),
     ("Music", "Drama", "Romance"),
     (("Lady Gaga", "Ally"), ("Bradley Cooper", "Jackson Maine"), ("Sam Elliott", "Bobby Maine")), ("US",), 42.7),
    (593, "tt0069293", "Solaris", "Солярис", "ru", "1972-03-20", 167, ("Andrei Tarkovsky",),
     ("Drama", "Science Fiction", "Mystery"),
     (("Natalya Bondarchuk", "Hari"), ("Donatas Banionis", "Kris Kelvin")), ("SU",), 17.5),
    (900039, None, "Solaris", None, "en", "2002-11-27", 99, ("Steven Soderbergh",),
     ("Drama", "Science Fiction", "Mystery"),
     (("George Clooney", "Chris Kelvin"), ("Natascha McElhone", "Rheya")), ("US",), 13.9),
    (900002, None, "Cape Fear", None, "en", "1962-04-12", 106, ("J. Lee Thompson",), ("Thriller", "Crime"),
     (("Gregory Peck", "Sam Bowden"), ("Robert Mitchum", "Max Cady"), ("Polly Bergen", "Peggy Bowden")), ("US",), 13.1),
    (1598, "tt0101540", "Cape Fear", None, "en", "1991-11-15", 128, ("Martin Scorsese",), ("Crime", "Thriller"),
     (("Robert De Niro", "Max Cady"), ("Nick Nolte", "Sam Bowden"), ("Jessica Lange", "Leigh Bowden")), ("US",), 21.7),
    (9587, "tt0110367", "Little Women", None, "en", "1994-12-21", 115, ("Gillian Armstrong",), ("Drama", "Romance"),
     (("Winona Ryder", "Jo March"), ("Susan Sarandon", "Marmee March"), ("Kirsten Dunst", "Young Amy March"),
      ("Claire Danes", "Beth March")), ("US", "CA"), 16.0),
    (331482, "tt3281548", "Little Women", None, "en", "2019-12-25", 135, ("Greta Gerwig",),
     ("Drama", "Romance", "History"),
     (("Saoirse Ronan", "Jo March"), ("Emma Watson", "Meg March"), ("Florence Pugh", "Amy March"),
      ("Eliza Scanlen", "Beth March")), ("US",), 38.5),
    (948, "tt0077651", "Halloween", None, "en", "1978-10-25", 91, ("John Carpenter",), ("Horror", "Thriller"),
     (("Donald Pleasence", "Dr. Sam Loomis"), ("Jamie Lee Curtis", "Laurie Strode"),
      ("Nick Castle", "The Shape")), ("US",), 37.6),
    (900047, None, "Halloween", None, "en", "2007-08-31", 109, ("Rob Zombie",), ("Horror", "Thriller"),
     (("Malcolm McDowell", "Dr. Samuel Loomis"), ("Scout Taylor-Compton", "Laurie Strode"),
      ("Tyler Mane", "Michael Myers")), ("US",), 18.3),
    (424139, "tt1502407", "Halloween", None, "en", "2018-10-18", 106, ("David Gordon Green",), ("Horror", "Thriller"),
     (("Jamie Lee Curtis", "Laurie Strode"), ("Judy Greer", "Karen"), ("Andi Matichak", "Allyson")), ("US",), 33.9),
    (900001, None, "Mr. & Mrs. Smith", None, "en", "1941-01-31", 95, ("Alfred Hitchcock",), ("Comedy", "Romance"),
     (("Carole Lombard", "Ann Krausheimer Smith"), ("Robert Montgomery", "David Smith")), ("US",), 6.8),
    (787, "tt0356910", "Mr. & Mrs. Smith", None, "en", "2005-06-07", 120, ("Doug Liman",),
     ("Action", "Comedy", "Thriller"),
     (("Brad Pitt", "John Smith"), ("Angelina Jolie", "Jane Smith"), ("Vince Vaughn", "Eddie")), ("US",), 44.0),
    (1422, "tt0407887", "The Departed", None, "en", "2006-10-05", 151, ("Martin Scorsese",),
     ("Drama", "Thriller", "Crime"),
     (("Leonardo DiCaprio", "Billy Costigan"), ("Matt Damon", "Colin Sullivan"),
      ("Jack Nicholson", "Frank Costello")), ("US", "HK"), 52.6),
    (10775, "tt0338564", "Infernal Affairs", "無間道", "cn", "2002-12-12", 101, ("Andrew Lau", "Alan Mak"),
     ("Action", "Crime", "Drama", "Thriller"),
     (("Andy Lau", "Lau Kin-ming"), ("Tony Leung Chiu-wai", "Chan Wing-yan"),
      ("Anthony Wong Chau-sang", "Superintendent Wong")), ("HK",), 20.7),
    # Same title and year, told apart only by director.
    (10264, "tt0099726", "Hamlet", None, "en", "1990-12-19", 135, ("Franco Zeffirelli",), ("Drama",),
     (("Mel Gibson", "Hamlet"), ("Glenn Close", "Gertrude"), ("Alan Bates", "Claudius")), ("US", "GB", "FR"), 11.3),
    (287587, None, "Hamlet", None, "en", "1990-11-02", 176, ("Kevin Kline", "Kirk Browning"), ("Drama", "TV Movie"),
     (("Kevin Kline", "Hamlet"), ("Dana Ivey", "Gertrude"), ("Brian Murray", "Claudius")), ("US",), 10.6),
    (900048, None, "Hamlet", None, "en", "1996-12-25", 242, ("Kenneth Branagh",), ("Drama",),
     (("Kenneth Branagh", "Hamlet"), ("Kate Winslet", "Ophelia"), ("Julie Christie", "Gertrude")), ("GB", "US"), 14.4),
    (900049, None, "Hamlet", None, "en", "1948-05-04", 155, ("Laurence Olivier",), ("Drama",),
     (("Laurence Olivier", "Hamlet"), ("Jean Simmons", "Ophelia")), ("GB",), 8.2),
    (900050, None, "Emma", None, "en", "1996-08-02", 120, ("Douglas McGrath",), ("Comedy", "Drama", "Romance"),
     (("Gwyneth Paltrow", "Emma Woodhouse"), ("Jeremy Northam", "Mr. Knightley"),
      ("Toni Collette", "Harriet Smith")), ("GB", "US"), 12.4),
    (900051, None, "Emma", None, "en", "1996-11-24", 107, ("Diarmuid Lawrence",), ("Drama", "Romance", "TV Movie"),
     (("Kate Beckinsale", "Emma Woodhouse"), ("Mark Strong", "Mr. Knightley"),
      ("Samantha Morton", "Harriet Smith")), ("GB",), 11.9),
    (900052, None, "Emma.", None, "en", "2020-02-13", 125, ("Autumn de Wilde",), ("Comedy", "Drama", "Romance"),
     (("Anya Taylor-Joy", "Emma Woodhouse"), ("Johnny Flynn", "George Knightley"),
      ("Mia Goth", "Harriet Smith")), ("GB", "US"), 24.6),
    # Decoys: near-identical titles.
    (348, "tt0078748", "Alien", None, "en", "1979-05-25", 117, ("Ridley Scott",), ("Horror", "Science Fiction"),
     (("Sigourney Weaver", "Ellen Ripley"), ("Tom Skerritt", "Dallas"), ("John Hurt", "Kane")), ("GB", "US"), 64.2),
    (679, "tt0090605", "Aliens", None, "en", "1986-07-18", 137, ("James Cameron",),
     ("Action", "Thriller", "Science Fiction"),
     (("Sigourney Weaver", "Ellen Ripley"), ("Michael Biehn", "Cpl. Dwayne Hicks"),
      ("Carrie Henn", "Newt")), ("US", "GB"), 48.6),
    (8077, "tt0103644", "Alien³", None, "en", "1992-05-22", 114, ("David Fincher",),
     ("Science Fiction", "Action", "Horror"),
     (("Sigourney Weaver", "Ellen Ripley"), ("Charles S. Dutton", "Dillon")), ("US",), 31.2),
    (949, "tt0113277", "Heat", None, "en", "1995-12-15", 170, ("Michael Mann",),
     ("Crime", "Drama", "Action", "Thriller"),
     (("Al Pacino", "Lt. Vincent Hanna"), ("Robert De Niro", "Neil McCauley"),
      ("Val Kilmer", "Chris Shiherlis")), ("US",), 45.7),
    (900054, None, "Heat", None, "en", "1986-03-13", 101, ("Dick Richards", "Jerry Jameson"),
     ("Action", "Crime", "Thriller"),
     (("Burt Reynolds", "Nick 'Mex' Escalante"), ("Karen Young", "Holly"),
      ("Peter MacNicol", "Cyrus Kinnick")), ("US",), 8.4),
    (604, "tt0234215", "The Matrix Reloaded", None, "en", "2003-05-15", 138, ("Lana Wachowski", "Lilly Wachowski"),
     ("Action", "Science Fiction", "Adventure"),
     (("Keanu Reeves", "Neo"), ("Carrie-Anne Moss", "Trinity")), ("US", "AU"), 41.6),
    # --- Foreign original titles ---------------------------------------------------------------------------
    (194, "tt0211915", "Amélie", "Le Fabuleux Destin d'Amélie Poulain", "fr", "2001-04-25", 122,
     ("Jean-Pierre Jeunet",), ("Comedy", "Romance"),
     (("Audrey Tautou", "Amélie Poulain"), ("Mathieu Kassovitz", "Nino Quincampoix"),
      ("Rufus", "Raphaël Poulain")), ("FR", "DE"), 40.1),
    (146, "tt0190332", "Crouching Tiger, Hidden Dragon", "卧虎藏龙", "zh", "2000-07-06", 120, ("Ang Lee",),
     ("Adventure", "Drama", "Action", "Romance"),
     (("Chow Yun-fat", "Li Mu Bai"), ("Michelle Yeoh", "Yu Shu Lien"),
      ("Zhang Ziyi", "Jen Yu")), ("TW", "HK", "US", "CN"), 26.8),
    (1417, "tt0457430", "Pan's Labyrinth", "El laberinto del fauno", "es", "2006-10-11", 118, ("Guillermo del Toro",),
     ("Fantasy", "Drama", "War"),
     (("Ivana Baquero", "Ofelia"), ("Sergi López", "Capitán Vidal"), ("Maribel Verdú", "Mercedes"),
      ("Doug Jones", "Fauno / Pale Man")), ("MX", "ES"), 30.2),
    (406, "tt0113247", "La Haine", None, "fr", "1995-05-31", 98, ("Mathieu Kassovitz",), ("Drama",),
     (("Vincent Cassel", "Vinz"), ("Hubert Koundé", "Hubert"), ("Saïd Taghmaoui", "Saïd")), ("FR",), 19.0),
    (387, "tt0082096", "Das Boot", None, "de", "1981-09-17", 149, ("Wolfgang Petersen",), ("Drama", "History", "War"),
     (("Jürgen Prochnow", "Captain"), ("Herbert Grönemeyer", "Lt. Werner"),
      ("Klaus Wennemann", "Chief Engineer")), ("DE",), 18.5),
    (101, "tt0110413", "Léon: The Professional", "Léon", "en", "1994-09-14", 111, ("Luc Besson",),
     ("Crime", "Drama", "Action"),
     (("Jean Reno", "Léon"), ("Natalie Portman", "Mathilda"), ("Gary Oldman", "Stansfield")), ("FR", "US"), 36.4),
    (1391, "tt0245574", "Y Tu Mamá También", None, "es", "2001-06-08", 106, ("Alfonso Cuarón",), ("Drama", "Romance"),
     (("Maribel Verdú", "Luisa Cortés"), ("Gael García Bernal", "Julio Zapata"),
      ("Diego Luna", "Tenoch Iturbide")), ("MX",), 14.6),
    (426426, "tt6155172", "Roma", None, "es", "2018-12-14", 135, ("Alfonso Cuarón",), ("Drama",),
     (("Yalitza Aparicio", "Cleo"), ("Marina de Tavira", "Sofía")), ("MX", "US"), 16.3),
    (49047, "tt1454468", "Gravity", None, "en", "2013-10-03", 91, ("Alfonso Cuarón",),
     ("Science Fiction", "Thriller", "Drama"),
     (("Sandra Bullock", "Dr. Ryan Stone"), ("George Clooney", "Matt Kowalski")), ("GB", "US"), 35.9),
    (9693, "tt0206634", "Children of Men", None, "en", "2006-09-22", 109, ("Alfonso Cuarón",),
     ("Drama", "Action", "Thriller", "Science Fiction"),
     (("Clive Owen", "Theo Faron"), ("Julianne Moore", "Julian Taylor"),
      ("Michael Caine", "Jasper Palmer")), ("GB", "US"), 29.9),
    (55, "tt0245712", "Amores Perros", "Amores perros", "es", "2000-06-16", 154, ("Alejandro González Iñárritu",),
     ("Drama", "Thriller"),
     (("Emilio Echevarría", "El Chivo"), ("Gael García Bernal", "Octavio"), ("Goya Toledo", "Valeria")), ("MX",), 16.9),
    (194662, "tt2562232", "Birdman or (The Unexpected Virtue of Ignorance)", None, "en", "2014-10-17", 119,
     ("Alejandro González Iñárritu",), ("Drama", "Comedy"),
     (("Michael Keaton", "Riggan Thomson"), ("Edward Norton", "Mike Shiner"),
      ("Emma Stone", "Sam Thomson")), ("US",), 30.8),
    (758866, "tt14039582", "Drive My Car", "ドライブ・マイ・カー", "ja", "2021-08-20", 179, ("Ryusuke Hamaguchi",), ("Drama",),
     (("Hidetoshi Nishijima", "Yusuke Kafuku"), ("Toko Miura", "Misaki Watari"),
      ("Reika Kirishima", "Oto Kafuku")), ("JP",), 14.4),
    (5511, "tt0062229", "Le Samouraï", None, "fr", "1967-10-25", 105, ("Jean-Pierre Melville",), ("Crime", "Thriller"),
     (("Alain Delon", "Jef Costello"), ("François Périer", "The Superintendent"),
      ("Nathalie Delon", "Jane Lagrange")), ("FR", "IT"), 15.1),
    (900055, None, "Le Cercle Rouge", None, "fr", "1970-10-20", 140, ("Jean-Pierre Melville",), ("Crime", "Thriller"),
     (("Alain Delon", "Corey"), ("Bourvil", "Commissaire Mattei"),
      ("Gian Maria Volonté", "Vogel")), ("FR", "IT"), 12.2),
    # --- Numeric titles --------------------------------------------------------------------------------
    (530915, "tt8579674", "1917", None, "en", "2019-12-25", 119, ("Sam Mendes",), ("War", "History", "Drama"),
     (("George MacKay", "Lance Corporal Schofield"),
      ("Dean-Charles Chapman", "Lance Corporal Blake")), ("GB", "US"), 41.5),
    (1271, "tt0416449", "300", None, "en", "2006-12-09", 117, ("Zack Snyder",), ("Action", "Adventure", "War"),
     (("Gerard Butler", "King Leonidas"), ("Lena Headey", "Queen Gorgo"), ("David Wenham", "Dilios")), ("US",), 46.9),
    (53182, "tt1253863", "300: Rise of an Empire", None, "en", "2014-03-05", 102, ("Noam Murro",),
     ("Action", "War", "Fantasy"),
     (("Sullivan Stapleton", "Themistokles"), ("Eva Green", "Artemisia"),
      ("Lena Headey", "Queen Gorgo")), ("US",), 28.3),
    (62, "tt0062622", "2001: A Space Odyssey", None, "en", "1968-04-02", 149, ("Stanley Kubrick",),
     ("Science Fiction", "Mystery", "Adventure"),
     (("Keir Dullea", "Dr. Dave Bowman"), ("Gary Lockwood", "Dr. Frank Poole"),
      ("William Sylvester", "Dr. Heywood R. Floyd")), ("GB", "US"), 38.2),
    (8065, "tt0478087", "21", None, "en", "2008-03-28", 123, ("Robert Luketic",), ("Crime", "Drama", "Thriller"),
     (("Jim Sturgess", "Ben Campbell"), ("Kevin Spacey", "Micky Rosa"),
      ("Kate Bosworth", "Jill Taylor")), ("US",), 19.7),
    (12244, "tt0472033", "9", None, "en", "2009-08-19", 79, ("Shane Acker",),
     ("Action", "Adventure", "Animation", "Science Fiction"),
     (("Elijah Wood", "9 (voice)"), ("Jennifer Connelly", "7 (voice)"),
      ("Christopher Plummer", "1 (voice)")), ("US",), 21.0),
    (10197, "tt0875034", "Nine", None, "en", "2009-12-18", 118, ("Rob Marshall",), ("Drama", "Music", "Romance"),
     (("Daniel Day-Lewis", "Guido Contini"), ("Marion Cotillard", "Luisa Contini"),
      ("Penélope Cruz", "Carla Albanese")), ("US", "IT"), 12.9),
    (900053, None, "10", None, "en", "1979-10-05", 122, ("Blake Edwards",), ("Comedy", "Romance"),
     (("Dudley Moore", "George Webber"), ("Julie Andrews", "Samantha Taylor"),
      ("Bo Derek", "Jenny Hanley")), ("US",), 9.3),
    # --- '&'/'and', articles and punctuation ---------------------------------------------------------
    (343, "tt0067185", "Harold and Maude", None, "en", "1971-12-20", 91, ("Hal Ashby",), ("Comedy", "Drama", "Romance"),
     (("Ruth Gordon", "Maude"), ("Bud Cort", "Harold")), ("US",), 12.8),
    (100, "tt0120735", "Lock, Stock and Two Smoking Barrels", None, "en", "1998-08-28", 107, ("Guy Ritchie",),
     ("Comedy", "Crime"),
     (("Jason Flemyng", "Tom"), ("Dexter Fletcher", "Soap"), ("Nick Moran", "Eddy"),
      ("Jason Statham", "Bacon")), ("GB",), 22.9),
    (1412, "tt0098724", "Sex, Lies, and Videotape", None, "en", "1989-08-18", 100, ("Steven Soderbergh",), ("Drama",),
     (("James Spader", "Graham Dalton"), ("Andie MacDowell", "Ann Bishop Mullany"),
      ("Peter Gallagher", "John Mullany")), ("US",), 12.0),
    (900040, None, "Traffic", None, "en", "2000-12-27", 147, ("Steven Soderbergh",), ("Crime", "Drama", "Thriller"),
     (("Michael Douglas", "Robert Wakefield"), ("Benicio del Toro", "Javier Rodriguez"),
      ("Catherine Zeta-Jones", "Helena Ayala")), ("US", "DE"), 17.2),
    (603, "tt0133093", "The Matrix", None, "en", "1999-03-31", 136, ("Lana Wachowski", "Lilly Wachowski"),
     ("Action", "Science Fiction"),
     (("Keanu Reeves", "Neo"), ("Laurence Fishburne", "Morpheus"), ("Carrie-Anne Moss", "Trinity"),
      ("Hugo Weaving", "Agent Smith")), ("US", "AU"), 82.3),
    (10681, "tt0910970", "WALL·E", None, "en", "2008-06-22", 98, ("Andrew Stanton",),
     ("Animation", "Family", "Science Fiction"),
     (("Ben Burtt", "WALL·E (voice)"), ("Elissa Knight", "EVE (voice)"),
      ("Jeff Garlin", "Captain (voice)")), ("US",), 60.8),
    (807, "tt0114369", "Se7en", None, "en", "1995-09-22", 127, ("David Fincher",), ("Crime", "Mystery", "Thriller"),
     (("Brad Pitt", "Detective David Mills"), ("Morgan Freeman", "Detective William Somerset"),
      ("Gwyneth Paltrow", "Tracy Mills")), ("US",), 54.0),
    (550, "tt0137523", "Fight Club", None, "en", "1999-10-15", 139, ("David Fincher",), ("Drama", "Thriller"),
     (("Edward Norton", "Narrator"), ("Brad Pitt", "Tyler Durden"),
      ("Helena Bonham Carter", "Marla Singer")), ("US", "DE"), 73.4),
    (1949, "tt0443706", "Zodiac", None, "en", "2007-03-02", 157, ("David Fincher",),
     ("Crime", "Drama", "Mystery", "Thriller"),
     (("Jake Gyllenhaal", "Robert Graysmith"), ("Mark Ruffalo", "Dave Toschi"),
      ("Robert Downey Jr.", "Paul Avery")), ("US",), 27.4),
    (37799, "tt1285016", "The Social Network", None, "en", "2010-10-01", 121, ("David Fincher",), ("Drama",),
     (("Jesse Eisenberg", "Mark Zuckerberg"), ("Andrew Garfield", "Eduardo Saverin"),
      ("Justin Timberlake", "Sean Parker")), ("US",), 30.1),
    (11, "tt0076759", "Star Wars", None, "en", "1977-05-25", 121, ("George Lucas",),
     ("Adventure", "Action", "Science Fiction"),
     (("Mark Hamill", "Luke Skywalker"), ("Harrison Ford", "Han Solo"),
      ("Carrie Fisher", "Princess Leia Organa")), ("US",), 80.5),
    (954, "tt0117060", "Mission: Impossible", None, "en", "1996-05-22", 110, ("Brian De Palma",),
     ("Adventure", "Action", "Thriller"),
     (("Tom Cruise", "Ethan Hunt"), ("Jon Voight", "Jim Phelps"),
      ("Emmanuelle Béart", "Claire Phelps")), ("US",), 39.9),
    (278, "tt0111161", "The Shawshank Redemption", None, "en", "1994-09-23", 142, ("Frank Darabont",),
     ("Drama", "Crime"),
     (("Tim Robbins", "Andy Dufresne"), ("Morgan Freeman", "Ellis Boyd 'Red' Redding")), ("US",), 98.2),
    (244786, "tt2582802", "Whiplash", None, "en", "2014-10-10", 107, ("Damien Chazelle",), ("Drama", "Music"),
     (("Miles Teller", "Andrew Neiman"), ("J.K. Simmons", "Terence Fletcher")), ("US",), 45.2),
    (313369, "tt3783958", "La La Land", None, "en", "2016-12-09", 128, ("Damien Chazelle",),
     ("Comedy", "Drama", "Romance", "Music"),
     (("Ryan Gosling", "Sebastian Wilder"), ("Emma Stone", "Mia Dolan")), ("US",), 52.8),
    (78, "tt0083658", "Blade Runner", None, "en", "1982-06-25", 117, ("Ridley Scott",),
     ("Science Fiction", "Drama", "Thriller"),
     (("Harrison Ford", "Rick Deckard"), ("Rutger Hauer", "Roy Batty"), ("Sean Young", "Rachael")), ("US", "HK"), 50.1),
    (275, "tt0116282", "Fargo", None, "en", "1996-03-08", 98, ("Joel Coen", "Ethan Coen"),
     ("Crime", "Drama", "Thriller"),
     (("Frances McDormand", "Marge Gunderson"), ("William H. Macy", "Jerry Lundegaard"),
      ("Steve Buscemi", "Carl Showalter")), ("US", "GB"), 27.3),
    (6977, "tt0477348", "No Country for Old Men", None, "en", "2007-11-08", 122, ("Joel Coen", "Ethan Coen"),
     ("Crime", "Drama", "Thriller"),
     (("Tommy Lee Jones", "Ed Tom Bell"), ("Javier Bardem", "Anton Chigurh"),
      ("Josh Brolin", "Llewelyn Moss")), ("US",), 31.4),
    # --- Stanley Kubrick -----------------------------------------------------------------------------
    (185, "tt0066921", "A Clockwork Orange", None, "en", "1971-12-19", 137, ("Stanley Kubrick",),
     ("Science Fiction", "Crime"),
     (("Malcolm McDowell", "Alex DeLarge"), ("Patrick Magee", "Mr. Alexander"),
      ("Michael Bates", "Chief Guard")), ("GB", "US"), 35.1),
    (694, "tt0081505", "The Shining", None, "en", "1980-05-23", 144, ("Stanley Kubrick",), ("Horror", "Thriller"),
     (("Jack Nicholson", "Jack Torrance"), ("Shelley Duvall", "Wendy Torrance"),
      ("Danny Lloyd", "Danny Torrance")), ("GB", "US"), 48.7),
    (935, "tt0057012", "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb", None, "en", "1964-01-29",
     95, ("Stanley Kubrick",), ("Comedy", "War"),
     (("Peter Sellers", "Dr. Strangelove"), ("George C. Scott", "Gen. Buck Turgidson"),
      ("Sterling Hayden", "Gen. Jack D. Ripper")), ("GB", "US"), 21.4),
    (3175, "tt0072684", "Barry Lyndon", None, "en", "1975-12-18", 185, ("Stanley Kubrick",),
     ("Drama", "Romance", "History"),
     (("Ryan O'Neal", "Redmond Barry"), ("Marisa Berenson", "Lady Lyndon")), ("GB", "US"), 17.9),
    (600, "tt0093058", "Full Metal Jacket", None, "en", "1987-06-26", 117, ("Stanley Kubrick",), ("Drama", "War"),
     (("Matthew Modine", "Pvt. Joker"), ("R. Lee Ermey", "Gny. Sgt. Hartman"),
      ("Vincent D'Onofrio", "Pvt. Pyle")), ("GB", "US"), 33.0),
    (345, "tt0120663", "Eyes Wide Shut", None, "en", "1999-07-16", 159, ("Stanley Kubrick",),
     ("Mystery", "Drama", "Thriller"),
     (("Tom Cruise", "Dr. Bill Harford"), ("Nicole Kidman", "Alice Harford")), ("GB", "US"), 30.4),
    (975, "tt0050825", "Paths of Glory", None, "en", "1957-10-25", 88, ("Stanley Kubrick",), ("Drama", "War"),
     (("Kirk Douglas", "Col. Dax"), ("Ralph Meeker", "Cpl. Philippe Paris")), ("US",), 14.2),
    (802, "tt0056193", "Lolita", None, "en", "1962-06-13", 153, ("Stanley Kubrick",), ("Drama", "Romance"),
     (("James Mason", "Humbert Humbert"), ("Sue Lyon", "Lolita"),
      ("Shelley Winters", "Charlotte Haze")), ("GB", "US"), 15.8),
    # --- Alfred Hitchcock ----------------------------------------------------------------------------
    (426, "tt0052357", "Vertigo", None, "en", "1958-05-28", 128, ("Alfred Hitchcock",),
     ("Mystery", "Romance", "Thriller"),
     (("James Stewart", "John 'Scottie' Ferguson"), ("Kim Novak", "Madeleine Elster / Judy Barton")), ("US",), 24.8),
    (567, "tt0047396", "Rear Window", None, "en", "1954-08-01", 112, ("Alfred Hitchcock",), ("Thriller", "Mystery"),
     (("James Stewart", "L.B. 'Jeff' Jefferies"), ("Grace Kelly", "Lisa Carol Fremont")), ("US",), 22.1),
    (213, "tt0053125", "North by Northwest", None, "en", "1959-07-17", 136, ("Alfred Hitchcock",),
     ("Mystery", "Thriller", "Adventure"),
     (("Cary Grant", "Roger O. Thornhill"), ("Eva Marie Saint", "Eve Kendall"),
      ("James Mason", "Phillip Vandamm")), ("US",), 19.6),
    (571, "tt0056869", "The Birds", None, "en", "1963-03-28", 119, ("Alfred Hitchcock",), ("Horror", "Thriller"),
     (("Tippi Hedren", "Melanie Daniels"), ("Rod Taylor", "Mitch Brenner")), ("US",), 20.3),
    (223, "tt0032976", "Rebecca", None, "en", "1940-04-12", 130, ("Alfred Hitchcock",), ("Drama", "Mystery", "Romance"),
     (("Laurence Olivier", "Maxim de Winter"), ("Joan Fontaine", "The Second Mrs. de Winter")), ("US",), 13.5),
    (303, "tt0038787", "Notorious", None, "en", "1946-08-15", 101, ("Alfred Hitchcock",),
     ("Thriller", "Romance", "Drama"),
     (("Cary Grant", "Devlin"), ("Ingrid Bergman", "Alicia Huberman")), ("US",), 12.7),
    (845, "tt0044079", "Strangers on a Train", None, "en", "1951-06-30", 101, ("Alfred Hitchcock",),
     ("Crime", "Thriller"),
     (("Farley Granger", "Guy Haines"), ("Robert Walker", "Bruno Antony")), ("US",), 13.9),
    (521, "tt0046912", "Dial M for Murder", None, "en", "1954-05-29", 105, ("Alfred Hitchcock",), ("Crime", "Thriller"),
     (("Ray Milland", "Tony Wendice"), ("Grace Kelly", "Margot Wendice")), ("US",), 14.6),
    # --- Martin Scorsese ----------------------------------------------------------------------------
    (103, "tt0075314", "Taxi Driver", None, "en", "1976-02-08", 114, ("Martin Scorsese",), ("Crime", "Drama"),
     (("Robert De Niro", "Travis Bickle"), ("Jodie Foster", "Iris Steensma"),
      ("Cybill Shepherd", "Betsy")), ("US",), 41.3),
    (769, "tt0099685", "Goodfellas", None, "en", "1990-09-12", 145, ("Martin Scorsese",), ("Drama", "Crime"),
     (("Ray Liotta", "Henry Hill"), ("Robert De Niro", "James Conway"), ("Joe Pesci", "Tommy DeVito")), ("US",), 45.9),
    (1578, "tt0081398", "Raging Bull", None, "en", "1980-11-14", 129, ("Martin Scorsese",), ("Drama",),
     (("Robert De Niro", "Jake LaMotta"), ("Cathy Moriarty", "Vickie LaMotta"),
      ("Joe Pesci", "Joey LaMotta")), ("US",), 19.8),
    (203, "tt0070379", "Mean Streets", None, "en", "1973-10-14", 112, ("Martin Scorsese",), ("Drama", "Crime"),
     (("Harvey Keitel", "Charlie"), ("Robert De Niro", "Johnny Boy")), ("US",), 12.4),
    (262, "tt0085794", "The King of Comedy", None, "en", "1982-12-18", 109, ("Martin Scorsese",),
     ("Comedy", "Drama", "Crime"),
     (("Robert De Niro", "Rupert Pupkin"), ("Jerry Lewis", "Jerry Langford")), ("US",), 14.8),
    (524, "tt0112641", "Casino", None, "en", "1995-11-22", 179, ("Martin Scorsese",), ("Crime", "Drama"),
     (("Robert De Niro", "Sam 'Ace' Rothstein"), ("Sharon Stone", "Ginger McKenna"),
      ("Joe Pesci", "Nicky Santoro")), ("US", "FR"), 29.5),
    (398978, "tt1302006", "The Irishman", None, "en", "2019-11-01", 209, ("Martin Scorsese",),
     ("Crime", "Drama", "History"),
     (("Robert De Niro", "Frank Sheeran"), ("Al Pacino", "Jimmy Hoffa"),
      ("Joe Pesci", "Russell Bufalino")), ("US",), 27.2),
    # --- Christopher Nolan ----------------------------------------------------------------------------
    (11660, "tt0154506", "Following", None, "en", "1998-09-12", 69, ("Christopher Nolan",),
     ("Crime", "Mystery", "Thriller"),
     (("Jeremy Theobald", "The Young Man"), ("Alex Haw", "Cobb")), ("GB",), 9.6),
    (77, "tt0209144", "Memento", None, "en", "2000-10-11", 113, ("Christopher Nolan",), ("Mystery", "Thriller"),
     (("Guy Pearce", "Leonard Shelby"), ("Carrie-Anne Moss", "Natalie"),
      ("Joe Pantoliano", "Teddy Gammell")), ("US",), 28.9),
    (1124, "tt0482571", "The Prestige", None, "en", "2006-10-17", 130, ("Christopher Nolan",),
     ("Drama", "Mystery", "Science Fiction"),
     (("Hugh Jackman", "Robert Angier"), ("Christian Bale", "Alfred Borden"),
      ("Scarlett Johansson", "Olivia Wenscombe")), ("GB", "US"), 34.7),
    (155, "tt0468569", "The Dark Knight", None, "en", "2008-07-16", 152, ("Christopher Nolan",),
     ("Drama", "Action", "Crime", "Thriller"),
     (("Christian Bale", "Bruce Wayne"), ("Heath Ledger", "Joker"),
      ("Aaron Eckhart", "Harvey Dent")), ("GB", "US"), 92.4),
    (27205, "tt1375666", "Inception", None, "en", "2010-07-15", 148, ("Christopher Nolan",),
     ("Action", "Science Fiction", "Adventure"),
     (("Leonardo DiCaprio", "Cobb"), ("Joseph Gordon-Levitt", "Arthur"),
      ("Elliot Page", "Ariadne")), ("GB", "US"), 88.1),
    (157336, "tt0816692", "Interstellar", None, "en", "2014-11-05", 169, ("Christopher Nolan",),
     ("Adventure", "Drama", "Science Fiction"),
     (("Matthew McConaughey", "Cooper"), ("Anne Hathaway", "Brand"),
      ("Jessica Chastain", "Murph")), ("GB", "US"), 120.5),
    (374720, "tt5013056", "Dunkirk", None, "en", "2017-07-19", 107, ("Christopher Nolan",), ("War", "Action", "Drama"),
     (("Fionn Whitehead", "Tommy"), ("Tom Hardy", "Farrier"),
      ("Mark Rylance", "Mr. Dawson")), ("GB", "US", "FR", "NL"), 40.3),
    (872585, "tt15398776", "Oppenheimer", None, "en", "2023-07-19", 181, ("Christopher Nolan",), ("Drama", "History"),
     (("Cillian Murphy", "J. Robert Oppenheimer"), ("Emily Blunt", "Kitty Oppenheimer"),
      ("Robert Downey Jr.", "Lewis Strauss")), ("GB", "US"), 150.2),
    # --- Akira Kurosawa -------------------------------------------------------------------------------
    (346, "tt0047478", "Seven Samurai", "七人の侍", "ja", "1954-04-26", 207, ("Akira Kurosawa",), ("Action", "Drama"),
     (("Toshiro Mifune", "Kikuchiyo"), ("Takashi Shimura", "Kambei Shimada")), ("JP",), 26.4),
    (548, "tt0042876", "Rashomon", "羅生門", "ja", "1950-08-26", 88, ("Akira Kurosawa",), ("Crime", "Drama", "Mystery"),
     (("Toshiro Mifune", "Tajōmaru"), ("Machiko Kyō", "Masako Kanazawa"),
      ("Masayuki Mori", "Takehiro Kanazawa")), ("JP",), 17.3),
    (3782, "tt0044741", "Ikiru", "生きる", "ja", "1952-10-09", 143, ("Akira Kurosawa",), ("Drama",),
     (("Takashi Shimura", "Kanji Watanabe"),), ("JP",), 12.9),
    (11645, "tt0089881", "Ran", "乱", "ja", "1985-06-01", 162, ("Akira Kurosawa",), ("Action", "Drama", "War"),
     (("Tatsuya Nakadai", "Hidetora Ichimonji"), ("Akira Terao", "Taro Takatora Ichimonji")), ("JP", "FR"), 15.7),
    (11878, "tt0055630", "Yojimbo", "用心棒", "ja", "1961-04-25", 110, ("Akira Kurosawa",), ("Drama", "Thriller"),
     (("Toshiro Mifune", "Kuwabatake Sanjuro"), ("Tatsuya Nakadai", "Unosuke")), ("JP",), 14.1),
    (3777, "tt0050613", "Throne of Blood", "蜘蛛巣城", "ja", "1957-01-15", 110, ("Akira Kurosawa",), ("Drama", "History"),
     (("Toshiro Mifune", "Taketoki Washizu"), ("Isuzu Yamada", "Lady Asaji Washizu")), ("JP",), 11.2),
    (12493, "tt0057565", "High and Low", "天国と地獄", "ja", "1963-03-01", 143, ("Akira Kurosawa",),
     ("Crime", "Drama", "Thriller"),
     (("Toshiro Mifune", "Kingo Gondo"), ("Tatsuya Nakadai", "Chief Detective Tokura")), ("JP",), 13.0),
    # --- Ingmar Bergman, Andrei Tarkovsky ------------------------------------------------------------------
    (490, "tt0050976", "The Seventh Seal", "Det sjunde inseglet", "sv", "1957-02-16", 96, ("Ingmar Bergman",),
     ("Fantasy", "Drama"),
     (("Max von Sydow", "Antonius Block"), ("Gunnar Björnstrand", "Jöns"), ("Bengt Ekerot", "Death")), ("SE",), 16.8),
    (797, "tt0060827", "Persona", None, "sv", "1966-10-18", 85, ("Ingmar Bergman",), ("Drama",),
     (("Bibi Andersson", "Alma"), ("Liv Ullmann", "Elisabet Vogler")), ("SE",), 15.2),
    (614, "tt0050986", "Wild Strawberries", "Smultronstället", "sv", "1957-12-26", 91, ("Ingmar Bergman",), ("Drama",),
     (("Victor Sjöström", "Professor Isak Borg"), ("Bibi Andersson", "Sara")), ("SE",), 12.6),
    (900004, None, "Fanny and Alexander", "Fanny och Alexander", "sv", "1982-12-17", 188, ("Ingmar Bergman",),
     ("Drama", "Fantasy"),
     (("Bertil Guve", "Alexander Ekdahl"), ("Pernilla Allwin", "Fanny Ekdahl"),
      ("Ewa Fröling", "Emilie Ekdahl")), ("SE", "FR", "DE"), 11.8),
    (900005, None, "Cries and Whispers", "Viskningar och rop", "sv", "1972-12-21", 91, ("Ingmar Bergman",), ("Drama",),
     (("Harriet Andersson", "Agnes"), ("Ingrid Thulin", "Karin"), ("Liv Ullmann", "Maria")), ("SE",), 10.9),
    (900003, None, "Autumn Sonata", "Höstsonaten", "sv", "1978-10-08", 99, ("Ingmar Bergman",), ("Drama",),
     (("Ingrid Bergman", "Charlotte Andergast"), ("Liv Ullmann", "Eva")), ("SE", "DE", "GB"), 10.1),
    (1398, "tt0079944", "Stalker", "Сталкер", "ru", "1979-05-25", 162, ("Andrei Tarkovsky",),
     ("Drama", "Science Fiction"),
     (("Alexander Kaidanovsky", "Stalker"), ("Anatoly Solonitsyn", "Writer"),
      ("Nikolai Grinko", "Professor")), ("SU",), 16.1),
    (900056, None, "Mirror", "Зеркало", "ru", "1975-03-07", 107, ("Andrei Tarkovsky",), ("Drama",),
     (("Margarita Terekhova", "Maria / Natalia"), ("Ignat Daniltsev", "Ignat / Young Aleksei")), ("SU",), 10.4),
    # --- Federico Fellini -----------------------------------------------------------------------------
    (422, "tt0056801", "8½", None, "it", "1963-02-14", 138, ("Federico Fellini",), ("Drama", "Fantasy"),
     (("Marcello Mastroianni", "Guido Anselmi"), ("Claudia Cardinale", "Claudia"),
      ("Anouk Aimée", "Luisa Anselmi")), ("IT", "FR"), 14.9),
    (439, "tt0053779", "La Dolce Vita", "La dolce vita", "it", "1960-02-05", 174, ("Federico Fellini",),
     ("Comedy", "Drama"),
     (("Marcello Mastroianni", "Marcello Rubini"), ("Anita Ekberg", "Sylvia")), ("IT", "FR"), 17.4),
    (405, "tt0047528", "La Strada", "La strada", "it", "1954-09-22", 108, ("Federico Fellini",), ("Drama",),
     (("Giulietta Masina", "Gelsomina"), ("Anthony Quinn", "Zampanò")), ("IT",), 12.2),
    (900006, None, "Nights of Cabiria", "Le notti di Cabiria", "it", "1957-05-10", 110, ("Federico Fellini",),
     ("Drama",),
     (("Giulietta Masina", "Cabiria"), ("François Périer", "Oscar D'Onofrio")), ("IT", "FR"), 10.5),
    (7857, "tt0071129", "Amarcord", None, "it", "1973-12-18", 123, ("Federico Fellini",), ("Comedy", "Drama"),
     (("Bruno Zanin", "Titta Biondi"), ("Magali Noël", "Gradisca")), ("IT", "FR"), 13.3),
    # --- Wong Kar-wai -----------------------------------------------------------------------------------
    (843, "tt0118694", "In the Mood for Love", "花樣年華", "cn", "2000-09-29", 98, ("Wong Kar-wai",), ("Drama", "Romance"),
     (("Tony Leung Chiu-wai", "Chow Mo-wan"), ("Maggie Cheung", "Su Li-zhen")), ("HK", "FR"), 22.5),
    (11104, "tt0109424", "Chungking Express", "重慶森林", "cn", "1994-07-14", 102, ("Wong Kar-wai",),
     ("Drama", "Comedy", "Romance"),
     (("Brigitte Lin", "Woman in blonde wig"), ("Takeshi Kaneshiro", "He Qiwu"), ("Tony Leung Chiu-wai", "Cop 663"),
      ("Faye Wong", "Faye")), ("HK",), 18.7),
    (900007, None, "Happy Together", "春光乍洩", "cn", "1997-05-30", 96, ("Wong Kar-wai",), ("Drama", "Romance"),
     (("Leslie Cheung", "Ho Po-wing"), ("Tony Leung Chiu-wai", "Lai Yiu-fai")), ("HK",), 12.1),
    (844, "tt0212712", "2046", None, "cn", "2004-09-28", 129, ("Wong Kar-wai",),
     ("Drama", "Romance", "Science Fiction"),
     (("Tony Leung Chiu-wai", "Chow Mo-wan"), ("Gong Li", "Su Li-zhen"),
      ("Zhang Ziyi", "Bai Ling")), ("HK", "CN", "FR", "DE"), 13.8),
    (900008, None, "Fallen Angels", "墮落天使", "cn", "1995-09-06", 99, ("Wong Kar-wai",), ("Crime", "Drama", "Romance"),
     (("Leon Lai", "Wong Chi-ming"), ("Michelle Reis", "The Agent"), ("Takeshi Kaneshiro", "He Zhiwu")), ("HK",), 11.0),
    # --- Agnès Varda ------------------------------------------------------------------------------------
    (499, "tt0055852", "Cléo from 5 to 7", "Cléo de 5 à 7", "fr", "1962-04-11", 90, ("Agnès Varda",), ("Drama",),
     (("Corinne Marchand", "Florence 'Cléo' Victoire"), ("Antoine Bourseiller", "Antoine")), ("FR", "IT"), 11.4),
    (900009, None, "Vagabond", "Sans toit ni loi", "fr", "1985-12-04", 105, ("Agnès Varda",), ("Drama",),
     (("Sandrine Bonnaire", "Mona Bergeron"), ("Macha Méril", "Madame Landier")), ("FR",), 8.9),
    (900010, None, "The Gleaners and I", "Les Glaneurs et la Glaneuse", "fr", "2000-07-05", 82, ("Agnès Varda",),
     ("Documentary",),
     (("Agnès Varda", "Herself"),), ("FR",), 6.7),
    (900011, None, "Le Bonheur", None, "fr", "1965-02-10", 80, ("Agnès Varda",), ("Drama", "Romance"),
     (("Jean-Claude Drouot", "François Chevalier"), ("Claire Drouot", "Thérèse Chevalier")), ("FR",), 7.3),
    (900012, None, "Faces Places", "Visages Villages", "fr", "2017-06-28", 94, ("Agnès Varda", "JR"), ("Documentary",),
     (("Agnès Varda", "Herself"), ("JR", "Himself")), ("FR",), 9.2),
    # --- Steven Spielberg -----------------------------------------------------------------------------
    (578, "tt0073195", "Jaws", None, "en", "1975-06-20", 124, ("Steven Spielberg",),
     ("Horror", "Thriller", "Adventure"),
     (("Roy Scheider", "Martin Brody"), ("Robert Shaw", "Quint"), ("Richard Dreyfuss", "Matt Hooper")), ("US",), 45.6),
    (85, "tt0082971", "Raiders of the Lost Ark", None, "en", "1981-06-12", 115, ("Steven Spielberg",),
     ("Adventure", "Action"),
     (("Harrison Ford", "Indiana Jones"), ("Karen Allen", "Marion Ravenwood")), ("US",), 38.9),
    (601, "tt0083866", "E.T. the Extra-Terrestrial", None, "en", "1982-06-11", 115, ("Steven Spielberg",),
     ("Science Fiction", "Adventure", "Family", "Fantasy"),
     (("Henry Thomas", "Elliott"), ("Drew Barrymore", "Gertie"), ("Dee Wallace", "Mary")), ("US",), 36.2),
    (329, "tt0107290", "Jurassic Park", None, "en", "1993-06-11", 127, ("Steven Spielberg",),
     ("Adventure", "Science Fiction"),
     (("Sam Neill", "Alan Grant"), ("Laura Dern", "Ellie Sattler"), ("Jeff Goldblum", "Ian Malcolm")), ("US",), 58.3),
    (424, "tt0108052", "Schindler's List", None, "en", "1993-12-15", 195, ("Steven Spielberg",),
     ("Drama", "History", "War"),
     (("Liam Neeson", "Oskar Schindler"), ("Ben Kingsley", "Itzhak Stern"),
      ("Ralph Fiennes", "Amon Goeth")), ("US",), 49.0),
    (857, "tt0120815", "Saving Private Ryan", None, "en", "1998-07-24", 169, ("Steven Spielberg",),
     ("Drama", "History", "War"),
     (("Tom Hanks", "Captain John Miller"), ("Matt Damon", "Private James Francis Ryan"),
      ("Tom Sizemore", "Sergeant Mike Horvath")), ("US",), 51.7),
    (840, "tt0075860", "Close Encounters of the Third Kind", None, "en", "1977-11-16", 135, ("Steven Spielberg",),
     ("Science Fiction", "Drama"),
     (("Richard Dreyfuss", "Roy Neary"), ("François Truffaut", "Claude Lacombe")), ("US",), 22.6),
    (180, "tt0181689", "Minority Report", None, "en", "2002-06-20", 145, ("Steven Spielberg",),
     ("Science Fiction", "Action", "Thriller"),
     (("Tom Cruise", "Chief John Anderton"), ("Colin Farrell", "Danny Witwer"),
      ("Samantha Morton", "Agatha")), ("US",), 31.5),
    (900013, None, "Munich", None, "en", "2005-12-22", 164, ("Steven Spielberg",), ("Drama", "Thriller", "History"),
     (("Eric Bana", "Avner Kaufman"), ("Daniel Craig", "Steve")), ("US", "CA", "FR"), 18.4),
    # --- Francis Ford Coppola ---------------------------------------------------------------------------
    (238, "tt0068646", "The Godfather", None, "en", "1972-03-14", 175, ("Francis Ford Coppola",), ("Drama", "Crime"),
     (("Marlon Brando", "Don Vito Corleone"), ("Al Pacino", "Michael Corleone"),
      ("James Caan", "Sonny Corleone")), ("US",), 110.3),
    (240, "tt0071562", "The Godfather Part II", None, "en", "1974-12-20", 202, ("Francis Ford Coppola",),
     ("Drama", "Crime"),
     (("Al Pacino", "Michael Corleone"), ("Robert De Niro", "Vito Corleone"),
      ("Robert Duvall", "Tom Hagen")), ("US",), 62.8),
    (242, "tt0099674", "The Godfather Part III", None, "en", "1990-12-25", 162, ("Francis Ford Coppola",),
     ("Crime", "Drama", "Thriller"),
     (("Al Pacino", "Michael Corleone"), ("Diane Keaton", "Kay Adams"),
      ("Andy García", "Vincent Mancini")), ("US",), 35.4),
    (28, "tt0078788", "Apocalypse Now", None, "en", "1979-05-19", 147, ("Francis Ford Coppola",), ("Drama", "War"),
     (("Martin Sheen", "Captain Benjamin L. Willard"), ("Marlon Brando", "Colonel Walter E. Kurtz"),
      ("Robert Duvall", "Lieutenant Colonel Bill Kilgore")), ("US",), 33.6),
    (592, "tt0071360", "The Conversation", None, "en", "1974-04-07", 113, ("Francis Ford Coppola",),
     ("Crime", "Drama", "Mystery"),
     (("Gene Hackman", "Harry Caul"), ("John Cazale", "Stan")), ("US",), 14.3),
    (6114, "tt0103874", "Bram Stoker's Dracula", None, "en", "1992-11-13", 128, ("Francis Ford Coppola",),
     ("Romance", "Horror"),
     (("Gary Oldman", "Dracula"), ("Winona Ryder", "Mina Murray"), ("Anthony Hopkins", "Van Helsing")), ("US",), 27.1),
    # --- David Lynch -------------------------------------------------------------------------------------
    (985, "tt0074486", "Eraserhead", None, "en", "1977-03-19", 89, ("David Lynch",), ("Horror", "Fantasy"),
     (("Jack Nance", "Henry Spencer"), ("Charlotte Stewart", "Mary X")), ("US",), 13.6),
    (1955, "tt0080678", "The Elephant Man", None, "en", "1980-10-03", 124, ("David Lynch",), ("Drama", "History"),
     (("Anthony Hopkins", "Frederick Treves"), ("John Hurt", "John Merrick")), ("US", "GB"), 18.2),
    (793, "tt0090756", "Blue Velvet", None, "en", "1986-09-19", 120, ("David Lynch",), ("Crime", "Mystery", "Thriller"),
     (("Kyle MacLachlan", "Jeffrey Beaumont"), ("Isabella Rossellini", "Dorothy Vallens"),
      ("Dennis Hopper", "Frank Booth")), ("US",), 19.5),
    (1018, "tt0166924", "Mulholland Drive", None, "en", "2001-05-16", 147, ("David Lynch",),
     ("Thriller", "Drama", "Mystery"),
     (("Naomi Watts", "Betty Elms / Diane Selwyn"), ("Laura Harring", "Rita"),
      ("Justin Theroux", "Adam Kesher")), ("US", "FR"), 24.9),
    (638, "tt0116922", "Lost Highway", None, "en", "1997-01-15", 135, ("David Lynch",), ("Crime", "Drama", "Mystery"),
     (("Bill Pullman", "Fred Madison"), ("Patricia Arquette", "Renee Madison / Alice Wakefield")), ("US", "FR"), 15.9),
    (900014, None, "Wild at Heart", None, "en", "1990-08-17", 125, ("David Lynch",), ("Crime", "Romance", "Thriller"),
     (("Nicolas Cage", "Sailor Ripley"), ("Laura Dern", "Lula Fortune")), ("US",), 12.8),
    (900015, None, "The Straight Story", None, "en", "1999-10-15", 112, ("David Lynch",), ("Drama",),
     (("Richard Farnsworth", "Alvin Straight"), ("Sissy Spacek", "Rose Straight")), ("US", "FR", "GB"), 11.9),
    # --- Quentin Tarantino -------------------------------------------------------------------------------
    (500, "tt0105236", "Reservoir Dogs", None, "en", "1992-09-02", 99, ("Quentin Tarantino",), ("Crime", "Thriller"),
     (("Harvey Keitel", "Mr. White"), ("Tim Roth", "Mr. Orange"), ("Michael Madsen", "Mr. Blonde")), ("US",), 27.8),
    (680, "tt0110912", "Pulp Fiction", None, "en", "1994-09-10", 154, ("Quentin Tarantino",), ("Thriller", "Crime"),
     (("John Travolta", "Vincent Vega"), ("Samuel L. Jackson", "Jules Winnfield"),
      ("Uma Thurman", "Mia Wallace")), ("US",), 70.4),
    (184, "tt0119396", "Jackie Brown", None, "en", "1997-12-25", 154, ("Quentin Tarantino",),
     ("Crime", "Drama", "Thriller"),
     (("Pam Grier", "Jackie Brown"), ("Samuel L. Jackson", "Ordell Robbie"),
      ("Robert Forster", "Max Cherry")), ("US",), 20.6),
    (24, "tt0266697", "Kill Bill: Vol. 1", None, "en", "2003-10-10", 111, ("Quentin Tarantino",), ("Action", "Crime"),
     (("Uma Thurman", "The Bride"), ("Lucy Liu", "O-Ren Ishii"), ("Vivica A. Fox", "Vernita Green")), ("US",), 43.5),
    (393, "tt0378194", "Kill Bill: Vol. 2", None, "en", "2004-04-16", 136, ("Quentin Tarantino",),
     ("Action", "Crime", "Thriller"),
     (("Uma Thurman", "The Bride"), ("David Carradine", "Bill"), ("Michael Madsen", "Budd")), ("US",), 36.8),
    (16869, "tt0361748", "Inglourious Basterds", None, "en", "2009-08-02", 153, ("Quentin Tarantino",),
     ("Drama", "Thriller", "War"),
     (("Brad Pitt", "Lt. Aldo Raine"), ("Mélanie Laurent", "Shosanna Dreyfus"),
      ("Christoph Waltz", "Col. Hans Landa")), ("US", "DE"), 46.1),
    (68718, "tt1853728", "Django Unchained", None, "en", "2012-12-25", 165, ("Quentin Tarantino",),
     ("Drama", "Western"),
     (("Jamie Foxx", "Django"), ("Christoph Waltz", "Dr. King Schultz"),
      ("Leonardo DiCaprio", "Calvin Candie")), ("US",), 55.2),
    (466272, "tt7131622", "Once Upon a Time... in Hollywood", None, "en", "2019-07-26", 162, ("Quentin Tarantino",),
     ("Comedy", "Drama", "Thriller"),
     (("Leonardo DiCaprio", "Rick Dalton"), ("Brad Pitt", "Cliff Booth"),
      ("Margot Robbie", "Sharon Tate")), ("US", "GB", "CN"), 39.7),
    # --- Hayao Miyazaki ----------------------------------------------------------------------------------
    (129, "tt0245429", "Spirited Away", "千と千尋の神隠し", "ja", "2001-07-20", 125, ("Hayao Miyazaki",),
     ("Animation", "Family", "Fantasy"),
     (("Rumi Hiiragi", "Chihiro Ogino (voice)"), ("Miyu Irino", "Haku (voice)")), ("JP",), 85.6),
    (8392, "tt0096283", "My Neighbor Totoro", "となりのトトロ", "ja", "1988-04-16", 86, ("Hayao Miyazaki",),
     ("Fantasy", "Animation", "Family"),
     (("Noriko Hidaka", "Satsuki Kusakabe (voice)"), ("Chika Sakamoto", "Mei Kusakabe (voice)")), ("JP",), 48.2),
    (128, "tt0119698", "Princess Mononoke", "もののけ姫", "ja", "1997-07-12", 134, ("Hayao Miyazaki",),
     ("Adventure", "Fantasy", "Animation"),
     (("Yoji Matsuda", "Ashitaka (voice)"), ("Yuriko Ishida", "San (voice)")), ("JP",), 52.4),
    (4935, "tt0347149", "Howl's Moving Castle", "ハウルの動く城", "ja", "2004-11-19", 119, ("Hayao Miyazaki",),
     ("Fantasy", "Animation", "Adventure"),
     (("Chieko Baisho", "Sophie Hatter (voice)"), ("Takuya Kimura", "Howl (voice)")), ("JP",), 61.0),
    (16859, "tt0097814", "Kiki's Delivery Service", "魔女の宅急便", "ja", "1989-07-29", 103, ("Hayao Miyazaki",),
     ("Animation", "Family", "Fantasy"),
     (("Minami Takayama", "Kiki (voice)"), ("Rei Sakuma", "Jiji (voice)")), ("JP",), 40.6),
    (81, "tt0087544", "Nausicaä of the Valley of the Wind", "風の谷のナウシカ", "ja", "1984-03-11", 117, ("Hayao Miyazaki",),
     ("Adventure", "Animation", "Fantasy"),
     (("Sumi Shimamoto", "Nausicaä (voice)"), ("Goro Naya", "Lord Yupa (voice)")), ("JP",), 33.8),
    (11621, "tt0104652", "Porco Rosso", "紅の豚", "ja", "1992-07-18", 94, ("Hayao Miyazaki",),
     ("Family", "Comedy", "Animation", "Adventure"),
     (("Shuichiro Moriyama", "Porco Rosso (voice)"), ("Tokiko Kato", "Gina (voice)")), ("JP",), 29.4),
    (508883, "tt6587046", "The Boy and the Heron", "君たちはどう生きるか", "ja", "2023-07-14", 124, ("Hayao Miyazaki",),
     ("Animation", "Adventure", "Fantasy"),
     (("Soma Santoki", "Mahito Maki (voice)"), ("Masaki Suda", "The Grey Heron (voice)")), ("JP",), 57.9),
    # --- Bong Joon-ho -----------------------------------------------------------------------------------
    (496243, "tt6751668", "Parasite", "기생충", "ko", "2019-05-30", 133, ("Bong Joon-ho",),
     ("Comedy", "Thriller", "Drama"),
     (("Song Kang-ho", "Kim Ki-taek"), ("Lee Sun-kyun", "Park Dong-ik"), ("Cho Yeo-jeong", "Choi Yeon-kyo"),
      ("Choi Woo-shik", "Kim Ki-woo")), ("KR",), 78.5),
    (11423, "tt0353969", "Memories of Murder", "살인의 추억", "ko", "2003-05-02", 131, ("Bong Joon-ho",),
     ("Crime", "Drama", "Thriller"),
     (("Song Kang-ho", "Park Doo-man"), ("Kim Sang-kyung", "Seo Tae-yoon")), ("KR",), 21.3),
    (1255, "tt0468492", "The Host", "괴물", "ko", "2006-07-27", 120, ("Bong Joon-ho",),
     ("Horror", "Drama", "Science Fiction"),
     (("Song Kang-ho", "Park Gang-du"), ("Byun Hee-bong", "Park Hee-bong"),
      ("Bae Doona", "Park Nam-joo")), ("KR",), 19.1),
    (30018, "tt1216496", "Mother", "마더", "ko", "2009-05-28", 129, ("Bong Joon-ho",), ("Crime", "Drama", "Mystery"),
     (("Kim Hye-ja", "Mother"), ("Won Bin", "Yoon Do-joon")), ("KR",), 14.7),
    (110415, "tt1706620", "Snowpiercer", None, "en", "2013-08-01", 126, ("Bong Joon-ho",),
     ("Action", "Science Fiction", "Drama"),
     (("Chris Evans", "Curtis Everett"), ("Song Kang-ho", "Namgoong Minsu"),
      ("Tilda Swinton", "Mason")), ("KR", "CZ"), 30.6),
    (900016, None, "Okja", "옥자", "ko", "2017-06-28", 121, ("Bong Joon-ho",), ("Adventure", "Drama", "Science Fiction"),
     (("Ahn Seo-hyun", "Mija"), ("Tilda Swinton", "Lucy Mirando"),
      ("Jake Gyllenhaal", "Johnny Wilcox")), ("KR", "US"), 18.9),
    # --- Pedro Almodóvar --------------------------------------------------------------------------------
    (99, "tt0185125", "All About My Mother", "Todo sobre mi madre", "es", "1999-04-16", 101, ("Pedro Almodóvar",),
     ("Drama",),
     (("Cecilia Roth", "Manuela"), ("Marisa Paredes", "Huma Rojo"),
      ("Penélope Cruz", "Sister María Rosa")), ("ES", "FR"), 15.6),
    (64, "tt0287467", "Talk to Her", "Hable con ella", "es", "2002-03-15", 112, ("Pedro Almodóvar",),
     ("Drama", "Romance"),
     (("Javier Cámara", "Benigno Martín"), ("Darío Grandinetti", "Marco Zuloaga"),
      ("Leonor Watling", "Alicia")), ("ES",), 13.2),
    (219, "tt0441909", "Volver", None, "es", "2006-03-17", 121, ("Pedro Almodóvar",), ("Comedy", "Drama"),
     (("Penélope Cruz", "Raimunda"), ("Carmen Maura", "Irene"), ("Lola Dueñas", "Sole")), ("ES",), 16.4),
    (900017, None, "Pain and Glory", "Dolor y gloria", "es", "2019-03-22", 113, ("Pedro Almodóvar",), ("Drama",),
     (("Antonio Banderas", "Salvador Mallo"), ("Penélope Cruz", "Jacinta")), ("ES",), 14.0),
    (900018, None, "Women on the Verge of a Nervous Breakdown", "Mujeres al borde de un ataque de nervios", "es",
     "1988-03-25", 90, ("Pedro Almodóvar",), ("Comedy", "Drama"),
     (("Carmen Maura", "Pepa"), ("Antonio Banderas", "Carlos")), ("ES",), 11.6),
    (900019, None, "The Skin I Live In", "La piel que habito", "es", "2011-09-02", 120, ("Pedro Almodóvar",),
     ("Drama", "Horror", "Thriller"),
     (("Antonio Banderas", "Robert Ledgard"), ("Elena Anaya", "Vera Cruz")), ("ES",), 20.8),
    # --- Denis Villeneuve --------------------------------------------------------------------------------
    (329865, "tt2543164", "Arrival", None, "en", "2016-11-10", 116, ("Denis Villeneuve",),
     ("Drama", "Science Fiction", "Mystery"),
     (("Amy Adams", "Louise Banks"), ("Jeremy Renner", "Ian Donnelly"),
      ("Forest Whitaker", "Colonel Weber")), ("US",), 44.8),
    (335984, "tt1856101", "Blade Runner 2049", None, "en", "2017-10-04", 164, ("Denis Villeneuve",),
     ("Science Fiction", "Drama"),
     (("Ryan Gosling", "K"), ("Harrison Ford", "Rick Deckard"), ("Ana de Armas", "Joi")), ("US", "GB", "CA"), 59.3),
    (273481, "tt3397884", "Sicario", None, "en", "2015-09-17", 122, ("Denis Villeneuve",),
     ("Action", "Crime", "Thriller"),
     (("Emily Blunt", "Kate Macer"), ("Benicio del Toro", "Alejandro"), ("Josh Brolin", "Matt Graver")), ("US",), 32.1),
    (146233, "tt1392214", "Prisoners", None, "en", "2013-09-18", 153, ("Denis Villeneuve",),
     ("Drama", "Thriller", "Crime"),
     (("Hugh Jackman", "Keller Dover"), ("Jake Gyllenhaal", "Detective Loki")), ("US",), 36.5),
    (46738, None, "Incendies", None, "fr", "2010-09-17", 131, ("Denis Villeneuve",), ("Drama", "Mystery", "War"),
     (("Lubna Azabal", "Nawal Marwan"), ("Mélissa Désormeaux-Poulin", "Jeanne Marwan")), ("CA", "FR"), 16.2),
    (181886, None, "Enemy", None, "en", "2013-09-08", 91, ("Denis Villeneuve",), ("Mystery", "Thriller"),
     (("Jake Gyllenhaal", "Adam Bell / Anthony Claire"), ("Mélanie Laurent", "Mary")), ("CA", "ES"), 19.4),
    # --- Kathryn Bigelow ---------------------------------------------------------------------------------
    (12162, "tt0887912", "The Hurt Locker", None, "en", "2008-09-04", 131, ("Kathryn Bigelow",),
     ("Drama", "Thriller", "War"),
     (("Jeremy Renner", "SSgt. William James"), ("Anthony Mackie", "Sgt. JT Sanborn")), ("US",), 22.4),
    (97630, "tt1790885", "Zero Dark Thirty", None, "en", "2012-12-19", 157, ("Kathryn Bigelow",),
     ("Thriller", "Drama", "History"),
     (("Jessica Chastain", "Maya"), ("Jason Clarke", "Dan")), ("US",), 24.7),
    (900020, None, "Point Break", None, "en", "1991-07-12", 122, ("Kathryn Bigelow",), ("Action", "Crime", "Thriller"),
     (("Patrick Swayze", "Bodhi"), ("Keanu Reeves", "Johnny Utah"),
      ("Lori Petty", "Tyler Endicott")), ("US", "JP"), 26.0),
    (900021, None, "Strange Days", None, "en", "1995-10-13", 145, ("Kathryn Bigelow",),
     ("Crime", "Science Fiction", "Thriller"),
     (("Ralph Fiennes", "Lenny Nero"), ("Angela Bassett", "Lornette 'Mace' Mason")), ("US",), 14.9),
    (900022, None, "Near Dark", None, "en", "1987-10-02", 94, ("Kathryn Bigelow",), ("Horror", "Western"),
     (("Adrian Pasdar", "Caleb Colton"), ("Jenny Wright", "Mae"), ("Bill Paxton", "Severen")), ("US",), 12.3),
    (900023, None, "Detroit", None, "en", "2017-07-28", 143, ("Kathryn Bigelow",),
     ("Crime", "Drama", "Thriller", "History"),
     (("John Boyega", "Melvin Dismukes"), ("Will Poulter", "Krauss")), ("US",), 15.5),
    # --- Sofia Coppola -----------------------------------------------------------------------------------
    (153, "tt0335266", "Lost in Translation", None, "en", "2003-08-31", 102, ("Sofia Coppola",),
     ("Drama", "Comedy", "Romance"),
     (("Bill Murray", "Bob Harris"), ("Scarlett Johansson", "Charlotte")), ("US", "JP"), 25.1),
    (900024, "tt0422720", "Marie Antoinette", None, "en", "2006-05-24", 123, ("Sofia Coppola",),
     ("Drama", "History", "Romance"),
     (("Kirsten Dunst", "Marie Antoinette"), ("Jason Schwartzman", "Louis XVI")), ("US", "FR", "JP"), 18.6),
    (1443, "tt0159097", "The Virgin Suicides", None, "en", "1999-05-19", 97, ("Sofia Coppola",), ("Drama", "Romance"),
     (("Kirsten Dunst", "Lux Lisbon"), ("James Woods", "Mr. Lisbon"),
      ("Josh Hartnett", "Trip Fontaine")), ("US",), 21.9),
    (900025, None, "Somewhere", None, "en", "2010-09-03", 97, ("Sofia Coppola",), ("Drama", "Comedy"),
     (("Stephen Dorff", "Johnny Marco"), ("Elle Fanning", "Cleo")), ("US",), 9.8),
    (900026, None, "The Beguiled", None, "en", "2017-06-23", 93, ("Sofia Coppola",), ("Drama", "Thriller", "Western"),
     (("Colin Farrell", "Corporal John McBurney"), ("Nicole Kidman", "Martha Farnsworth"),
      ("Kirsten Dunst", "Edwina Dabney")), ("US",), 13.7),
    (900027, None, "Priscilla", None, "en", "2023-10-27", 113, ("Sofia Coppola",), ("Drama", "Romance", "History"),
     (("Cailee Spaeny", "Priscilla"), ("Jacob Elordi", "Elvis")), ("US", "IT"), 27.6),
    # --- Greta Gerwig -----------------------------------------------------------------------------------
    (391713, "tt4925292", "Lady Bird", None, "en", "2017-11-03", 94, ("Greta Gerwig",), ("Comedy", "Drama"),
     (("Saoirse Ronan", "Christine 'Lady Bird' McPherson"), ("Laurie Metcalf", "Marion McPherson")), ("US",), 23.8),
    (346698, "tt1517268", "Barbie", None, "en", "2023-07-19", 114, ("Greta Gerwig",),
     ("Comedy", "Adventure", "Fantasy"),
     (("Margot Robbie", "Barbie"), ("Ryan Gosling", "Ken")), ("US", "GB"), 140.8),
    # --- Jane Campion ------------------------------------------------------------------------------------
    (713, "tt0107822", "The Piano", None, "en", "1993-05-19", 121, ("Jane Campion",), ("Drama", "Romance"),
     (("Holly Hunter", "Ada McGrath"), ("Harvey Keitel", "George Baines"), ("Sam Neill", "Alisdair Stewart"),
      ("Anna Paquin", "Flora McGrath")), ("NZ", "AU", "FR"), 17.6),
    (600583, "tt10293406", "The Power of the Dog", None, "en", "2021-11-17", 128, ("Jane Campion",),
     ("Drama", "Western"),
     (("Benedict Cumberbatch", "Phil Burbank"), ("Kirsten Dunst", "Rose Gordon"), ("Jesse Plemons", "George Burbank"),
      ("Kodi Smit-McPhee", "Peter Gordon")), ("NZ", "AU", "GB", "CA"), 20.9),
    (900028, None, "Bright Star", None, "en", "2009-09-17", 119, ("Jane Campion",), ("Drama", "Romance"),
     (("Abbie Cornish", "Fanny Brawne"), ("Ben Whishaw", "John Keats")), ("GB", "AU", "FR"), 10.7),
    (900029, None, "An Angel at My Table", None, "en", "1990-09-06", 158, ("Jane Campion",), ("Drama",),
     (("Kerry Fox", "Janet Frame"),), ("NZ", "AU", "GB"), 7.9),
    (900030, None, "Sweetie", None, "en", "1989-05-18", 97, ("Jane Campion",), ("Drama", "Comedy"),
     (("Geneviève Lemon", "Dawn 'Sweetie'"), ("Karen Colston", "Kay")), ("AU",), 6.4),
    # --- Chantal Akerman ---------------------------------------------------------------------------------
    (900031, None, "Jeanne Dielman, 23, quai du Commerce, 1080 Bruxelles", None, "fr", "1975-05-14", 202,
     ("Chantal Akerman",), ("Drama",),
     (("Delphine Seyrig", "Jeanne Dielman"), ("Jan Decorte", "Sylvain Dielman")), ("BE", "FR"), 12.5),
    (900032, None, "News from Home", None, "en", "1977-02-03", 85, ("Chantal Akerman",), ("Documentary",),
     (("Chantal Akerman", "Narrator (voice)"),), ("BE", "FR"), 4.8),
    (900033, None, "Je tu il elle", None, "fr", "1974-10-24", 86, ("Chantal Akerman",), ("Drama", "Romance"),
     (("Chantal Akerman", "Julie"), ("Niels Arestrup", "Truck Driver"),
      ("Claire Wauthion", "Girlfriend")), ("BE", "FR"), 5.1),
    (900034, None, "Les Rendez-vous d'Anna", None, "fr", "1978-09-20", 127, ("Chantal Akerman",), ("Drama",),
     (("Aurore Clément", "Anna Silver"), ("Helmut Griem", "Heinrich")), ("BE", "FR", "DE"), 4.6),
    # --- Céline Sciamma ----------------------------------------------------------------------------------
    (531428, "tt8613070", "Portrait of a Lady on Fire", "Portrait de la jeune fille en feu", "fr", "2019-09-18", 122,
     ("Céline Sciamma",), ("Drama", "Romance", "History"),
     (("Noémie Merlant", "Marianne"), ("Adèle Haenel", "Héloïse")), ("FR",), 29.3),
    (900035, None, "Tomboy", None, "fr", "2011-04-20", 82, ("Céline Sciamma",), ("Drama",),
     (("Zoé Héran", "Laure / Mickaël"), ("Malonn Lévana", "Jeanne")), ("FR",), 9.4),
    (900036, None, "Girlhood", "Bande de filles", "fr", "2014-10-22", 113, ("Céline Sciamma",), ("Drama",),
     (("Karidja Touré", "Marieme / Vic"), ("Assa Sylla", "Lady")), ("FR",), 8.1),
    (900037, None, "Petite Maman", None, "fr", "2021-06-02", 72, ("Céline Sciamma",), ("Drama", "Fantasy"),
     (("Joséphine Sanz", "Nelly"), ("Gabrielle Sanz", "Marion")), ("FR",), 10.6),
    (900038, None, "Water Lilies", "Naissance des pieuvres", "fr", "2007-08-15", 85, ("Céline Sciamma",),
     ("Drama", "Romance"),
     (("Pauline Acquart", "Marie"), ("Louise Blachère", "Anne"), ("Adèle Haenel", "Floriane")), ("FR",), 7.0),
)

# --- Derived fields ---------------------------------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def _image_path(kind: str, tmdb_id: int, n: int) -> str:
    """'/' + 27 base62 characters + '.jpg', fixed by (kind, id, n) like a TMDB image file name."""
    value, chars = _hash(f"{kind}:{tmdb_id}:{n}"), []
    while len(chars) < 27:
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "/" + "".join(chars) + ".jpg"


def _person_id(name: str) -> int:
    return 1_000_000 + _hash(f"person:{name}") % 4_000_000


def _imdb_id(tmdb_id: int, imdb_id: str | None) -> str:
    return imdb_id if imdb_id is not None else f"tt9{tmdb_id:07d}"


def _overview(title: str, year: str, genres: tuple[str, ...], directors: tuple[str, ...],
              cast: tuple[tuple[str, str], ...]) -> str:
    kind = genres[0].lower() if genres[0] != "TV Movie" else "television"
    text = f"{title} is a {year} {kind} film directed by {' and '.join(directors)}."
    if cast:
        names = [name for name, _ in cast[:2]]
        text += f" It stars {' and '.join(names)}."
    return text


def _images(tmdb_id: int, kind: str, count: int) -> list[dict]:
    items = []
    for n in range(count):
        item = {"aspect_ratio": 0.667, "file_path": _image_path(kind, tmdb_id, n), "height": 3000,
                "iso_639_1": "en", "vote_average": round(5.6 - 0.4 * n, 3), "vote_count": 12 - 3 * n, "width": 2000}
        if kind == "backdrop":
            item.update(aspect_ratio=1.778, height=2160, iso_639_1=None, width=3840)
        items.append(item)
    return items


def details_body(row: tuple) -> dict:
    """A TMDB /movie/{id} body with credits, images and external_ids appended."""
    (tmdb_id, imdb_id, title, original_title, language, release_date, runtime, directors, genres, cast,
     countries, popularity) = row
    imdb_id = _imdb_id(tmdb_id, imdb_id)
    h = _hash(f"votes:{tmdb_id}")
    spoken = [language] + (["en"] if language != "en" and ("US" in countries or "GB" in countries) else [])
    return {
        "id": tmdb_id,
        "imdb_id": imdb_id,
        "title": title,
        "original_title": original_title if original_title is not None else title,
        "original_language": language,
        "release_date": release_date,
        "overview": _overview(title, release_date[:4], genres, directors, cast),
        "tagline": "",
        "runtime": runtime,
        "genres": [{"id": GENRE_IDS[g], "name": g} for g in genres],
        "popularity": float(popularity),
        "vote_average": round(5.8 + (h % 250) / 100, 1),
        "vote_count": int(popularity * 230) + h % 500,
        "poster_path": _image_path("poster", tmdb_id, 0),
        "backdrop_path": _image_path("backdrop", tmdb_id, 0),
        "production_countries": [{"iso_3166_1": c, "name": COUNTRIES[c]} for c in countries],
        "spoken_languages": [{"english_name": LANGUAGES[code][0], "iso_639_1": code, "name": LANGUAGES[code][1]}
                             for code in spoken],
        "adult": False,
        "video": False,
        "status": "Released",
        "credits": {
            "cast": [{"id": _person_id(name), "name": name, "character": character, "order": order}
                     for order, (name, character) in enumerate(cast)],
            "crew": [{"id": _person_id(name), "name": name, "job": "Director", "department": "Directing"}
                     for name in directors],
        },
        "images": {
            "posters": _images(tmdb_id, "poster", 2 + h % 2),
            "backdrops": _images(tmdb_id, "backdrop", 1 + (h >> 8) % 3),
            "logos": [],
        },
        "external_ids": {"imdb_id": imdb_id, "wikidata_id": None, "facebook_id": None, "instagram_id": None,
                         "twitter_id": None},
    }


def build_catalog() -> list[dict]:
    """Every film of FILMS as a full TMDB details body, in table order."""
    return [details_body(row) for row in FILMS]


# --- Sample database ----------------------------------------------------------------------------------

# Records needing a particular shape: (key, record fields, expected).  "url" and "source" are added
# unless the record sets them.  Expected: a TMDB id, NOT_FOUND (no such film in the catalog) or INVALID.
SPECIAL = (
    # Remakes sharing a title: told apart by year (and director).  Colliding keys get the year, as the scraper does.
    ("Psycho", {"title": "Psycho", "year": 1960, "director": "Alfred Hitchcock"}, 539),
    ("Psycho (1998)", {"title": "Psycho", "year": "1998", "director": "Gus Van Sant"}, 11252),
    ("Ocean's Eleven", {"title": "Ocean's Eleven", "year": 2001, "director": "Steven Soderbergh", "rating": 7.4}, 161),
    ("Ocean's Eleven (1960)", {"title": "Ocean's Eleven", "year": 1960, "director": "Lewis Milestone"}, 299),
    ("Scarface", {"title": "Scarface", "year": 1983, "director": "Brian De Palma"}, 111),
    ("Scarface (1932)", {"title": "Scarface", "year": "1932", "director": ["Howard Hawks"]}, 900042),
    ("Thing, The", {"title": "Thing, The", "year": 1982, "director": "John Carpenter"}, 1091),
    ("The Thing (2011)", {"title": "The Thing", "year": 2011, "director": "Matthijs van Heijningen Jr."}, 60935),
    ("True Grit", {"title": "True Grit", "year": 1969, "director": "Henry Hathaway"}, 900043),
    ("True Grit (2010)", {"title": "True Grit", "year": 2010, "director": ["Joel Coen", "Ethan Coen"]}, 44264),
    ("Suspiria",
     {"title": "Suspiria", "year": 1977, "director": "Dario Argento", "genres_raw": "horror, giallo"}, 11906),
    ("Suspiria (2018)", {"title": "Suspiria", "year": 2018, "director": "Luca Guadagnino"}, 361292),
    ("Dune", {"title": "Dune", "year": 1984, "director": "David Lynch"}, 841),
    ("Dune (2021)", {"title": "Dune", "year": "2021", "director": "Denis Villeneuve"}, 438631),
    ("West Side Story", {"title": "West Side Story", "year": 1961, "director": "Robert Wise & Jerome Robbins"}, 1725),
    ("West Side Story (2021)", {"title": "West Side Story", "year": 2021, "director": "Steven Spielberg"}, 511809),
    ("A Star Is Born", {"title": "A Star Is Born", "year": 1937, "director": "William A. Wellman"}, 900044),
    ("A Star Is Born (1954)", {"title": "A Star Is Born", "year": 1954, "director": "George Cukor"}, 900045),
    ("A Star Is Born (1976)", {"title": "Star Is Born, A", "year": "1976", "director": "Frank Pierson"}, 900046),
    ("A Star Is Born (2018)", {"title": "A Star Is Born", "year": 2018, "director": "Bradley Cooper"}, 332562),
    ("Solaris", {"title": "Solaris", "year": 1972, "director": "Andrei Tarkovsky"}, 593),
    ("Solaris (2002)", {"title": "Solaris", "year": 2002, "director": "Steven Soderbergh"}, 900039),
    ("Cape Fear", {"title": "Cape Fear", "year": 1991, "director": "Martin Scorsese"}, 1598),
    ("Cape Fear (1962)", {"director": "J. Lee Thompson"}, 900002),  # title and year only in the key
    ("Little Women", {"title": "Little Women", "year": 2019, "director": "Greta Gerwig"}, 331482),
    ("Little Women (1994)", {"title": "Little Women", "year": 1994, "director": "Gillian Armstrong"}, 9587),
    ("Halloween", {"title": "Halloween", "year": 1978, "director": "John Carpenter"}, 948),
    ("Halloween (2007)", {"director": "Rob Zombie", "scraped_at": "2024-05-03T10:00:00Z"}, 900047),
    ("Halloween (2018)", {"title": "Halloween", "year": 2018, "director": "David Gordon Green"}, 424139),
    ("Mr. & Mrs. Smith", {"title": "Mr. & Mrs. Smith", "year": 1941, "director": "Alfred Hitchcock"}, 900001),
    ("Mr. & Mrs. Smith (2005)", {"title": "Mr. & Mrs. Smith", "year": 2005, "director": "Doug Liman"}, 787),
    ("The Departed", {"title": "The Departed", "year": 2006, "director": "Martin Scorsese"}, 1422),
    ("Infernal Affairs", {"title": "Infernal Affairs", "year": 2002, "director": ["Andrew Lau", "Alan Mak"]}, 10775),
    # Same title and year: only the director decides.
    ("Hamlet", {"title": "Hamlet", "year": 1990, "director": "Franco Zeffirelli"}, 10264),
    ("Hamlet (1990)", {"title": "Hamlet", "year": 1990, "director": "Kevin Kline; Kirk Browning"}, 287587),
    ("Hamlet (1996)", {"title": "Hamlet", "year": 1996, "director": "Kenneth Branagh"}, 900048),
    ("Emma", {"title": "Emma", "year": 1996, "director": "Douglas McGrath", "rating": 6.7}, 900050),
    ("Emma (1996)", {"title": "Emma", "year": "1996", "director": "Diarmuid Lawrence"}, 900051),
    # Scraped spellings: trailing articles, '&', case and accents, original titles.
    ("Matrix, The", {"title": "Matrix, The", "year": 1999, "director": ["Lana Wachowski", "Lilly Wachowski"]}, 603),
    ("Godfather, The", {"year": "1972", "director": "Francis Ford Coppola"}, 238),  # title only in the key
    ("Shining, The", {"title": "Shining, The", "year": 1980, "director": "Stanley Kubrick"}, 694),
    ("Clockwork Orange, A", {"title": "Clockwork Orange, A", "year": 1971, "director": "Stanley Kubrick"}, 185),
    ("Samouraï, Le", {"title": "Samouraï, Le", "year": 1967, "director": "Jean-Pierre Melville"}, 5511),
    ("Harold & Maude", {"title": "Harold & Maude", "year": 1971, "director": "Hal Ashby"}, 343),
    ("Lock, Stock & Two Smoking Barrels",
     {"title": "Lock, Stock & Two Smoking Barrels", "year": 1998, "director": "Guy Ritchie"}, 100),
    ("sex, lies, and videotape",
     {"title": "sex, lies, and videotape", "year": 1989, "director": "Steven Soderbergh"}, 1412),
    ("AMELIE", {"title": "AMELIE", "year": 2001, "director": "Jean-Pierre Jeunet"}, 194),
    ("Leon: The Professional", {"title": "Leon: The Professional", "year": 1994, "director": "Luc Besson"}, 101),
    ("Y Tu Mama Tambien", {"title": "Y Tu Mama Tambien", "year": "2001", "director": "Alfonso Cuaron"}, 1391),
    ("Det sjunde inseglet", {"title": "Det sjunde inseglet", "year": 1957, "director": "Ingmar Bergman"}, 490),
    ("El laberinto del fauno",
     {"title": "El laberinto del fauno", "year": 2006, "director": "Guillermo del Toro"}, 1417),
    # Numbers and punctuation.
    ("1917", {"title": 1917, "year": 2019, "director": "Sam Mendes"}, 530915),
    ("300", {"title": 300, "year": 2006, "director": "Zack Snyder"}, 1271),
    ("300: Rise of an Empire", {"title": "300: Rise of an Empire", "year": 2014, "director": "Noam Murro"}, 53182),
    ("2001: A Space Odyssey", {"title": "2001: A Space Odyssey", "year": 1968, "director": "Stanley Kubrick"}, 62),
    ("21", {"title": "21", "year": 2008, "director": "Robert Luketic"}, 8065),
    ("9", {"title": "9", "year": 2009, "director": "Shane Acker"}, 12244),
    ("Nine", {"title": "Nine", "year": 2009, "director": "Rob Marshall"}, 10197),
    ("10", {"title": 10, "year": "1979", "director": "Blake Edwards"}, 900053),
    ("2046", {"title": 2046, "year": 2004, "director": "Wong Kar-wai"}, 844),
    ("The Godfather: Part II",
     {"title": "The Godfather: Part II", "year": 1974, "director": "Francis Ford Coppola"}, 240),
    ("WALL-E", {"title": "WALL-E", "year": 2008, "director": "Andrew Stanton"}, 10681),
    ("Se7en", {"title": "Se7en", "year": 1995, "director": "David Fincher"}, 807),
    ("Birdman", {"title": "Birdman or (The Unexpected Virtue of Ignorance)", "year": 2014,
                 "director": "Alejandro González Iñárritu"}, 194662),
    ("Star Wars", {"title": "Star Wars", "year": 1977, "director": "George Lucas"}, 11),
    ("Mission Impossible", {"title": "Mission Impossible", "year": 1996, "director": "Brian De Palma"}, 954),
    ("Dr. Strangelove", {"title": "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb", "year": 1964,
                         "director": "Stanley Kubrick"}, 935),
    ("Jeanne Dielman", {"title": "Jeanne Dielman, 23, quai du Commerce, 1080 Bruxelles", "year": 1975,
                        "director": "Chantal Akerman"}, 900031),
    # Decoys: near-identical titles.
    ("Alien", {"title": "Alien", "year": 1979, "director": "Ridley Scott"}, 348),
    ("Aliens", {"title": "Aliens", "year": 1986, "director": "James Cameron"}, 679),
    ("Alien³", {"title": "Alien³", "year": 1992, "director": "David Fincher"}, 8077),
    ("Heat", {"title": "Heat", "year": 1995, "director": "Michael Mann"}, 949),
    ("Heat (1986)", {"title": "Heat", "year": 1986, "director": "Dick Richards"}, 900054),
    # Festival premiere year, one before (or after) the TMDB release year.
    ("Parasite", {"title": "Parasite", "year": 2018, "director": "Bong Joon Ho"}, 496243),
    ("Roma", {"title": "Roma", "year": 2017, "director": "Alfonso Cuarón"}, 426426),
    ("Drive My Car", {"title": "Drive My Car", "year": "2022", "director": "Ryusuke Hamaguchi"}, 758866),
    # Ids already known.
    ("Fight Club", {"title": "Fight Club", "year": 1999, "director": "David Fincher", "tmdb_id": 550}, 550),
    ("Inception", {"title": "Inception", "year": 2010, "tmdb_id": "27205"}, 27205),
    ("Jaws", {"title": "Jaws", "director": "Steven Spielberg", "tmdb_id": 578}, 578),
    ("Pulp Fiction", {"title": "Pulp Fiction", "year": 1994, "director": "Quentin Tarantino", "tmdb_id": 680}, 680),
    ("Vertigo", {"title": "Vertigo", "imdb_id": "tt0052357"}, 426),
    ("Rashomon", {"title": "Rashomon", "imdb_id": "tt0042876"}, 548),
    ("Blade Runner", {"title": "Blade Runner", "imdb_id": "tt0083658"}, 78),
    ("Memento", {"title": "Memento", "imdb_id": "TT0209144"}, 77),
    # Not in the catalog at all, some sharing words with catalog titles.
    ("The Thing About Harry", {"title": "The Thing About Harry", "year": 2000, "director": "Peter Gerber"}, NOT_FOUND),
    ("Psycho Beach Party", {"title": "Psycho Beach Party", "year": 2000, "director": "Robert Lee King"}, NOT_FOUND),
    ("Heat Lightning", {"title": "Heat Lightning", "year": 1934, "director": "Mervyn LeRoy"}, NOT_FOUND),
    ("Alien Nation", {"title": "Alien Nation", "year": 1988, "director": "Graham Baker"}, NOT_FOUND),
    ("The Shining Hour", {"title": "The Shining Hour", "year": "1938", "director": "Frank Borzage"}, NOT_FOUND),
    ("Rebecca's Daughters", {"title": "Rebecca's Daughters", "year": 1992, "director": "Karl Francis"}, NOT_FOUND),
    ("Vertigo Sea", {"title": "Vertigo Sea", "year": 2015, "director": "John Akomfrah"}, NOT_FOUND),
    ("The Nine Lives of Tomas Katz",
     {"title": "The Nine Lives of Tomas Katz", "year": 2000, "director": "Ben Hopkins"}, NOT_FOUND),
    ("Halloween Night at the Lake",
     {"title": "Halloween Night at the Lake", "year": 2016, "director": "Dana Whitfield", "source": "student-films"},
     NOT_FOUND),
    ("Solaris Station", {"title": "Solaris Station", "year": 2019, "director": "Ines Marek"}, NOT_FOUND),
    ("A Matrix of Small Lies",
     {"title": "A Matrix of Small Lies", "year": 2014, "director": "Tomasz Wrona"}, NOT_FOUND),
    ("Sunday in Kyoto",
     {"title": "Sunday in Kyoto", "director": "Mariko Tanabe", "source": "student-films"}, NOT_FOUND),
    ("Parasite Island", {"title": "Parasite Island", "year": 2020, "director": "Kwame Mensah"}, NOT_FOUND),
    ("Cape Fear Revisited", {"title": "Cape Fear Revisited", "year": 2008, "director": "Lena Okafor"}, NOT_FOUND),
    ("Emma's Garden", {"title": "Emma's Garden", "year": "2017", "director": "Ruth Calloway"}, NOT_FOUND),
    ("Dune Riders", {"title": "Dune Riders", "year": 2013, "director": "Samir Haddad"}, NOT_FOUND),
    # No usable title.
    ("Untitled draft", {"title": ""}, INVALID),
    ("missing-title-1999", {"title": None, "year": 1999}, INVALID),
    ("42.5", {"title": 42.5}, INVALID),
)

# Films scraped plainly (title, year and director as the catalog has them), with the scraper's variety.
ORDINARY = (146, 406, 387, 55, 244786, 3175, 600, 345, 567, 213, 571, 223, 521, 103, 769, 1578, 203, 524, 398978,
    1124, 155, 157336, 374720, 872585, 346, 3782, 11645, 11878, 797, 614, 900004, 1398, 422, 439, 7857, 843, 11104,
    900007, 499, 900009, 900012, 85, 601, 329, 424, 857, 180, 242, 28, 592, 985, 1955, 793, 1018, 638, 900015, 500,
    24, 16869, 68718, 466272, 129, 8392, 128, 4935, 81, 508883, 11423, 1255, 30018, 110415, 99, 219, 900017, 900019,
    329865, 335984, 273481, 146233, 46738, 12162, 97630, 900020, 900023, 153, 900024, 1443, 900027, 391713, 346698,
    713, 600583, 900028, 900033, 531428, 900035, 900036)


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "untitled"


def _url(key: str, fields: dict) -> str:
    director = fields.get("director")
    if isinstance(director, list):
        director = director[0] if director else None
    person = _slug(re.split(r"[;|/]", director)[0]) if isinstance(director, str) and director else "unknown"
    title = fields.get("title")
    return f"https://example.org/directors/{person}/{_slug(title if isinstance(title, str) and title else key)}"


def _ordinary_record(i: int, row: tuple, unique_title: bool) -> dict:
    """A plain filmography record; i picks the variation (title field, year form, director form, extras)."""
    tmdb_id, _, title, _, _, release_date, _, directors, genres, _, _, _ = row
    year = int(release_date[:4])
    record: dict = {} if i % 13 == 6 else {"title": title}  # without a title field the key is the title
    if i % 9 == 4 and unique_title:
        pass  # no year at all: the title alone identifies the film
    elif i % 4 == 3:
        record["year"] = str(year)
    else:
        record["year"] = year
    record["director"] = list(directors) if len(directors) > 1 or i % 5 == 2 else directors[0]
    if i % 3 == 1:
        record["rating"] = round(6.0 + _hash(f"rating:{tmdb_id}") % 35 / 10, 1)
        record["scraped_at"] = f"2024-05-{1 + i % 28:02d}T{i * 7 % 24:02d}:{i * 13 % 60:02d}:00Z"
    if i % 6 == 5:
        record["genres_raw"] = ", ".join(g.lower() for g in genres)
    return record


def _title_key(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


def build_sample() -> tuple[dict, dict]:
    """(sample database keyed like a scraper writes it, expected answer per key)."""
    films = {row[0]: row for row in FILMS}
    title_count: dict[str, int] = {}
    for row in FILMS:
        for key in {_title_key(row[2]), _title_key(row[3] or row[2])}:
            title_count[key] = title_count.get(key, 0) + 1
    sample: dict = {}
    expected: dict = {}
    for key, fields, answer in SPECIAL:
        if key in sample:
            raise ValueError(f"duplicate sample key {key!r}")
        record = dict(fields)
        record.setdefault("url", _url(key, fields))
        record.setdefault("source", "filmography")
        sample[key], expected[key] = record, answer
    for i, tmdb_id in enumerate(ORDINARY):
        row = films[tmdb_id]
        record = _ordinary_record(i, row, title_count[_title_key(row[2])] == 1)
        key = row[2] if row[2] not in sample else f"{row[2]} ({row[5][:4]})"
        if key in sample:
            raise ValueError(f"duplicate sample key {key!r}")
        record["url"] = _url(key, {"title": row[2], **record})
        record["source"] = "filmography"
        sample[key], expected[key] = record, tmdb_id
    return sample, expected


# --- Files --------------------------------------------------------------------------------------------


def render(value: object) -> str:
    """The exact text of a data file."""
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    sample, expected = build_sample()
    for name, value in ((CATALOG_FILE, build_catalog()), (SAMPLE_FILE, sample), (EXPECTED_FILE, expected)):
        (DATA_DIR / name).write_text(render(value), encoding="utf-8")


if __name__ == "__main__":
    main()
