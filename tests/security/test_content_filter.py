"""The content filter: the issue's cases, focused cases for each rule, the review tier
(round 9: which posts check() passes are held for a moderator), then the rates on the
corpora in tests/data (legacy pair, dev, dev2 to dev16, held-out).

The filter itself is pure Python: no database, no Redis, no Django settings (the last
two tests only read settings and run the report command).
"""

import io
import logging
import re
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.management import call_command

from core.conf import kirb_setting
from security import spam_model
from security.content_filter import (
    DATA_DIR,
    MESSAGES,
    REVIEW_REASONS,
    ContentFilter,
    FilterConfig,
    normalise,
    read_corpus,
    review_corpus,
    score_corpus,
)

DEFAULT_CONFIG = FilterConfig.from_settings(kirb_setting)

DATASETS = Path(__file__).resolve().parent.parent / "data"
HELDOUT = DATASETS / "heldout"


@pytest.fixture(scope="module")
def content_filter():
    return ContentFilter(DEFAULT_CONFIG)


def rule_of(content_filter, text):
    verdict = content_filter.check(text)
    return verdict.rule if verdict else None


def read_posts(name):
    return read_corpus(DATASETS / name)


# --- the issue: 80 posts by someone else ---------------------------------------------

# Clean posts the filter used to refuse, and must not.
ISSUE_FALSE_POSITIVES = [
    "1BHK for rent near bc road, Bantwal. 9k rent.",
    "PG for boys near mc road, Vijayanagar.",
    "Near mc donalds, Andheri East. 1RK, 10k.",
    "Ass. Professor at COEP looking for a 1BHK in Shivajinagar.",
    "Small kutiya style cottage on a farm near Lonavala, 8k per month.",
    "2BHK in Kothrud, Pune (411038), rent 22000, deposit 1 lakh.",
    "Baner (411045) 9800 rent, veg only.",
    "New 2BHK in RERA P52100047896 project, Hinjewadi, rent 24k.",
    "Flats 801 802 803 804 available in Tower B, Wakad.",
    "PG @Baner for working girls, 9k with food.",
    "Fridge, washing machine, sofa etc.in the flat.",
    "I work at a crypto exchange in BKC, need a 1BHK nearby.",
    "Got my flat in the MHADA lottery, renting it out. 2BHK Goregaon, 30k.",
]

# Spam the filter used to let through, with the rule that must now refuse it.
ISSUE_MISSES = [
    ("Room in Baner, call 98220🏠12345 for visit", "phone_in_text"),  # digits split by an emoji
    ("2BHK Wakad, contact 98220/12345", "phone_in_text"),  # ... by "/"
    ("1RK Kurla, call 98220 and then 12345", "phone_in_text"),  # ... by words
    ("Flat available, number 98220 baki 12345", "phone_in_text"),
    ("Message on telegrm @punerooms for all listings", "link"),  # misspelt app names
    ("teligram id flatspune24", "link"),
    ("Join our teligram channel for daily flats", "spam_phrase"),
    ("insta: pune.rooms.daily for photos and videos", "link"),  # insta / snapchat handles
    ("snapchat roomhunter_22 for pics", "link"),
    ("See all rooms at punerooms [d0t] com", "link"),
    ("Listings at punerooms。com, updated daily", "link"),
    ("Best flats on flatsdekho.online, no brokerage", "link"),
    ("Cheap rooms at rooms4u.rent", "link"),
    ("All PG list here bit.do/pgpune", "link"),
    ("Call nau aath don don shunya ek don teen char pach for room", "phone_in_text"),  # Marathi, Latin
    ("फोन करें नौ आठ दो दो शून्य एक दो तीन चार पांच", "phone_in_text"),  # Hindi, Devanagari
    ("संपर्क नऊ आठ दोन दोन शून्य एक दोन तीन चार पाच", "phone_in_text"),  # Marathi, Devanagari
    ("Flat ke liye call karo nau aath do do shunya ek do teen char paanch", "phone_in_text"),  # Hindi, Latin
    ("Send 5000 token on PhonePe, keys by post", "scam"),
    ("Owner abroad, pay advance 10000 on GPay and I will courier the keys", "scam"),
    ("zavadya owner, don mahine deposit kapla", "profanity"),  # Marathi abuse
    ("aai zhavli, itka bhade kon deta", "profanity"),
    ("bhikarchot landlord, paani pan nahi", "profanity"),
    ("madarjaat broker ne 2 mahine ka brokerage liya", "profanity"),  # new Hinglish spellings
    ("bhenchodd broker, deposit wapas nahi kiya", "profanity"),
    ("call \u202e54321 02289\u202c for the flat", "phone_in_text"),  # shown as "call 98220 12345"
]


@pytest.mark.parametrize("text", ISSUE_FALSE_POSITIVES)
def test_the_issues_clean_posts_are_accepted(content_filter, text):
    assert rule_of(content_filter, text) is None


@pytest.mark.parametrize("text, rule", ISSUE_MISSES)
def test_the_issues_spam_is_refused(content_filter, text, rule):
    assert rule_of(content_filter, text) == rule


# --- normalisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, read",
    [
        ("call \u202e54321 02289\u202c", "call 98220 12345"),  # right-to-left override: shown reversed
        ("\u202b12345 98220\u202c", "98220 12345"),  # numbers in an RTL embedding: runs reversed
        ("98\u200b220\u200d12\u2060345\ufeff", "9822012345"),  # zero-width characters
        ("\u2066rooms\u2069\u200e.com", "rooms.com"),  # isolates and marks
        ("punerooms。com rooms．in rooms․net", "punerooms.com rooms.in rooms.net"),  # lookalike dots
        ("९८२२० ௯௮௨௨௦ ೯೮ ٩٨ ９８ 𝟗𝟖 ⑨⑧ ❾", "98220 98220 98 98 98 98 98 9"),  # digits of every script
        ("9️⃣8️⃣", "98"),  # keycaps
        ("fùck fuсk ｆｕｃｋ", "fuck fuck fuck"),  # accents, Cyrillic с, fullwidth
    ],
)
def test_the_text_is_read_as_it_is_shown(typed, read):
    assert normalise(typed) == read


def test_ascii_text_is_left_alone():
    text = "Rent 15000, call after 6pm. B.Com students welcome!"
    assert normalise(text) is text


# --- links ---------------------------------------------------------------------------

LINKS = [
    "Best flats, visit www.cheapflats.com",
    "details at https://example.org/rooms",
    "http://rentnow.online/hyd",
    "h t t p s : / / rooms-hub.net",
    "photos on flatsinpune.in",
    "WWW.FLATDEALS.IN",
    "check homes.xyz for more",
    "rooms at rent-easy.co.in/listing",
    "mail me at rahul.rooms@gmail.com",
    "full list: bit.ly/3xYzAbC",
    "bit . ly/abc",
    "tinyurl.com/pg-list",
    "join t.me/rentals_blr",
    "msg on wa.me/919845678901",
    "chat.whatsapp.com/KQ8xZr2LmPa",
    "forms.gle/aB3dE5fG7h",
    "video: youtu.be/dQw4w9WgXcQ",
    "visit flats4u dot com",
    "see flats4u (dot) com",
    "listing at homesindia[.]xyz",
    "flatsinpune[dot]in",
    "Telegram @roomsdelhi",
    "telegram pe message karo @cheap_pg_noida",
    "tg: @flatfinderbot",
    "insta @mumbai_rooms for pics",
    "@roomsdelhi on telegram",
    "insta id pooja_123",
    "my telegram username is roomsblr",
    "Best flats on flatsdekho.online",  # suffixes that are words, with a made-up name
    "Cheap rooms at rooms4u.rent",
    "Visit our website mumbaiflats.store",
    "http://rentnow.online",
    "punerooms [d0t] com",
    "punerooms{dot}com",
    "roomshub . net",
    "W W W . R O O M S . C O M",
    "bit.do/pgpune",
    "bit(.)ly/pgpune",
    "teligram: @flats_pune",  # misspelt app names
    "message me on instagarm @roomspune",
    "insta: pune.rooms.daily",
    "snapchat roomhunter_22",
    "Follow us on insta: punerooms_official",
    "search roomsdelhi on telegram",
    "whatsapp id: rooms.pune",
    "Add me on snapchat, id is rahul_rooms99",
    # Round 2: app names in disguise, bare handles, mail providers, a round symbol for the dot,
    "Sn@pchat: kochi_rooms add me",
    "T.e.l.e.g.r.a.m: chennai_pg_hub",
    "Telegr@m → @Indore_Room_Seva",
    "Ping me on Skype live:roomsmumbai",
    "gmail - roomdelhi2024",
    "insta ➡ flats.pune for photos",
    "DM @pune_rooms for the full list",
    "ROOMS ➡️ roomwala ⚫ in ⬅️ ROOMS",
    "olx.in par dekho sab flats",
    # Round 10: an employer in lower case is one only when its name is a word.
    "working at rooms4u.rent office, visit",
    "Employee of flatsdekho.in, contact for flats",
]

NOT_LINKS = [
    "Room for B.Com / M.Com students, B.Tech and M.Tech welcome",
    "Approx 1200 sq.ft. 2BHK",
    "e.g. co-living, i.e. shared kitchen",
    "Good locality.In case you are interested, click reveal.",
    "Near metro.Rent 18k.Deposit 2 months.Veg only.",
    "PG @ HSR, @9k, @ Koramangala",
    "Mr.Sharma is the owner, Dr.Ambedkar road, St.Mary's church",
    "Wi-Fi, A.C., T.V., R.O. water",
    "polka dot in the curtains",
    "I am on telegram too, but use the reveal button",
    "WhatsApp only, no calls",
    "Pvt.Ltd. company lease, Infosys & Co.",
    "Ph.D scholars welcome",
    "Flat no.1204, No.1 location",
    "gated society with pool.club house, gym",
    "5th floor.top floor has a terrace",
    "sofa, beds etc.in the flat",
    "Ass. Professor, needs a 1BHK",
    "PG @Baner, @baner for boys, photos on insta",
    "Near the metro station.in front of Big Bazaar",
    "attached bathroom.rent 15k",
    "Instagram pe photos nahi hain, visit karke dekh lo",
    "Society has a WhatsApp group for residents, and I am on Telegram too",
    "Approx 950 sq.ft. carpet, B.Sc/M.Sc students",
    # Round 2,
    "Room @rs.9000 per month in Baner",
    "PG @Sector62 Noida, 8k with food",
    "Near Instamart dark store, Koramangala",
    "Gmail and internet work fine here, fibre available",
    "Yahoo! Got the flat, thanks everyone.",
    "1BHK • Baner • 20k • in a gated society",
    # Round 10: an employer typed in lower case (dev16).
    "Working at zoho.com Tenkasi office, need a room nearby for 1 year.",
]


@pytest.mark.parametrize("text", LINKS)
def test_links_and_contact_handles_are_caught(content_filter, text):
    assert rule_of(content_filter, text) == "link"


@pytest.mark.parametrize("text", NOT_LINKS)
def test_abbreviations_and_glued_sentences_are_not_links(content_filter, text):
    assert rule_of(content_filter, text) is None


# --- phone numbers -------------------------------------------------------------------

PHONES = [
    "2BHK available, call 9845678901",
    "contact98456789012now",
    "98 45 67 89 01 call after 7pm",
    "whatsapp 98-456-78901",
    "mob 98456.78901",
    "Contact 9845 678 901 (Ravi)",
    "98456 - 78901",
    "98456,78901",
    "9 8 4 5 6 7 8 9 0 1",
    "7-0-4-5-6-1-2-3-9-8",
    "8_8_0_0_1_2_3_4_5_6",
    "Contact +91 98456 78901",
    "+91-9845678901",
    "+919845678901",
    "ph: 0091-9822012345",
    "call 091 9988776655",
    "0 98456 78901",
    "landline 080 2345 6789",
    "(+91) 80-2345-6789",
    "contact 98O456789O1",  # O for 0
    "call 9l8765432l",  # l for 1
    "ph 99I00I2345",  # I for 1
    "nine eight four five six seven eight nine zero one",
    "Nine Eight Four Five Six Seven Eight Nine Zero One",
    "call me at 98 four five six seven eight nine zero one",
    "nine eight 4 5 six 7 eight nine 0 one",
    "nau aath chaar paanch chhe saat aath nau shunya ek",
    "double nine eight four five six seven eight nine zero",
    "ninety-eight forty-five sixty-seven eighty-nine zero-one",
    "９８４５６７８９０１",
    "९८४५६७८९०१",
    "9️⃣8️⃣4️⃣5️⃣6️⃣7️⃣8️⃣9️⃣0️⃣1️⃣",
    "PG in Noida sector 62, 7000, contact 8800 123 456",
    "98456 78901 7 pm ke baad",
    "call 98220🏠12345",  # split by emoji, symbols and words
    "Number: 98220 ⭐ 12345",
    "Ph 98220 | 12345",
    "contact 98220/12345",
    "call 98220 and then 12345",
    "contact 9822 dash 012345",
    "My number starts with 98220 and ends with 12345",
    "call 98220 ghar 12345",  # any one word, when what is left is exactly a mobile number
    "my number is 98220 then one two three four five",
    "Contact: nine eight two two zero, one two three four five",
    "call nineeighttwotwozero one two three four five",  # glued spellings
    "call 98two2zero12345",
    "call me at ninety eight twenty two zero one twenty three forty five",
    "nau aath don don shunya ek don teen char pach",  # Marathi
    "नौ आठ दो दो शून्य एक दो तीन चार पांच",  # Hindi, Devanagari
    "नऊ आठ दोन दोन शून्य एक दोन तीन चार पाच",  # Marathi, Devanagari
    "call 99 ek ek 23 45 67",
    "मोबाइल ௯௮௨௨௦௧௨௩௪௫",  # Tamil digits
    "Call ⑨⑧②②⓪①②③④⑤",
    "call \u202e54321 02289\u202c",
    "ring me 9822\u200b012345",
    "tel 020 2553 1234",
    "call 1800 123 4567",
    "+91 (982) 201 2345",
    "call9822012345 for room",
    # Round 2: numbers a digit short or oddly grouped, counted halves, more languages,
    "First five digits 98450 and last five 31277",
    "call double nine triple eight zero four five six",
    "number - dabal nau ath ath saat chhe paanch char teen",
    "landline 0251-2435 6789",
    "call me 9 7 O 4 l 2 3 8 8 6",
    "call 98220 1234 for 2BHK",
    "call 98220, 12345 for room",
    "number atthanave do do shunya ek do teen char paanch",
    "नंबर अट्ठानवे दो दो शून्य एक दो तीन चार पाँच",
    "call onbathu ettu naalu anju aaru ezhu ettu onbathu poojyam onnu",
    "ఫోన్ తొమ్మిది ఎనిమిది రెండు రెండు సున్నా ఒకటి రెండు మూడు నాలుగు ఐదు",
    "കോൾ ഒമ്പത് എട്ട് രണ്ട് രണ്ട് പൂജ്യം ഒന്ന് രണ്ട് മൂന്ന് നാല് അഞ്ച്",
    # Round 10: pairs of digits split by emoji or spaces, the last one before a word
    # that counts things (dev16).
    "📞 98⭐20⭐11⭐45⭐67 room for rent Borivali West",
    "98 20 11 45 67 room for rent",
]

HOUSING_NUMBERS = [
    "Rent ₹15,000 per month",
    "15000/month, 15k negotiable",
    "2 lakh deposit, ₹1,50,000 refundable",
    "2BHK, 3 BHK and 1RK available",
    "Sector 62, Noida",
    "flat no 1204, 12th floor",
    "pincode 560034",
    "available from 01/12/2026",
    "available from 01.12.2026",
    "1200 sq ft, 3rd floor",
    "5 min from metro",
    "built in 2025",
    "₹15000 deposit 30000 available from 1/12",
    "2 BHK 15000 rent 30000",
    "rent 15000 30000 deposit",
    "rent 15000,30000 deposit",
    "budget 15000-20000",
    "Rent 9500 11000 12500 for 3, 2, 1 sharing",
    "Rent 14999 30000 deposit",
    "Flat 1204 560034",
    "Flat 1204, 560034",
    "from 01.12.2026 15000 rent",
    "available 2026-12-01 to 2027-03-31, 12000",
    "Flat no. 1204. 15000 rent",
    "H.No. 16-11-740/6/A, Moosarambagh",
    "Sector 62 201301 Noida",
    "2025 2026 2027",
    "10.30 am to 6.30 pm, 24x7 water",
    "Do you have 2 rooms? One for me and one for my brother.",
    "ek do teen char log hain, 2 rooms chahiye",
    "Rent twenty two thousand five hundred, deposit fifty thousand",
    "Single 8,999 double 6,999 triple 5,999",
    "Sharing rent 6500 7500 8500 9500, food extra",
    "1RK Kurla 9000 18000 2 months deposit",
    "9000 18000 do mahine ka deposit",
    "Call after 6pm, use the reveal button",
    "2BHK in Kothrud, Pune (411038), rent 22000",  # pincodes
    "Baner (411045) 9800 rent",
    "PIN: 411 057, Hinjewadi",
    "RERA P52100047896, Hinjewadi",  # identifiers
    "MahaRERA No. P52100012345, possession 2026",
    "RERA: PRM/KA/RERA/1251/446/PR/171031/001234",
    "GSTIN 27AABCU9603R1ZX company lease",
    "Flats 801 802 803 804 available",  # flat numbers
    "Flats 801/802/803/804, all 2BHK",
    "Flats 1201 1202 1203 1204 vacant",
    "Rent 9,500 deposit 28,500",  # prices
    "Rent 9,999 only! deposit 19,999",
    "rent 95000 deposit 285000",
    "Rs. 18,000 pm, Rs. 50,000 deposit",
    "Built in 2019, renovated 2024",  # years
    "2019 2020 2021 2022 2023",
    "Rent 9800 or 10500 with AC",
    "Rent twenty two thousand five hundred, deposit fifty thousand",
    "Flat no. ४०२, बाणेर",
    # Round 2: numbers near "call", flat numbers, words that are also number words,
    "H.No 8-2-293/82, Road No 3, Banjara Hills",
    "Call me, flats 8011 8012 available",
    "call: flats 0801 0802 0803 available",
    "Call between 10-6, rent 14000, deposit 28000, Sector 9",
    "Contact 8 AM - 9 PM, rent 18000 28000",
    "Ticket no 45612 78901 for my complaint",
    "Onnu rendu rooms available, Velachery, 8k each",
    "Nau baje ke baad call mat karna, 1BHK 14k",
]


@pytest.mark.parametrize("text", PHONES)
def test_phone_numbers_in_the_text_are_caught(content_filter, text):
    assert rule_of(content_filter, text) == "phone_in_text"


@pytest.mark.parametrize("text", HOUSING_NUMBERS)
def test_rents_pincodes_flats_and_dates_are_not_phones(content_filter, text):
    assert rule_of(content_filter, text) is None


@pytest.mark.parametrize("text", PHONES)
def test_the_message_never_repeats_the_number(content_filter, text, caplog):
    caplog.set_level(logging.DEBUG, logger="security.content_filter")
    verdict = content_filter.check(text)
    assert verdict.message == MESSAGES["phone_in_text"]
    number_parts = re.findall(r"\d{2,}", text)
    for said in [verdict.message, *(record.getMessage() for record in caplog.records)]:
        assert not any(part in said for part in number_parts)
        assert text not in said


def test_no_message_quotes_the_post():
    for message in MESSAGES.values():
        assert not re.search(r"\d", message)


# --- spam phrases --------------------------------------------------------------------

SPAM = [
    "Earn money from home 50000 per month",
    "Earn-money  FROM home!!",
    "earn.money.from.home",
    "Guaranteed returns on crypto",
    "Work from home earn 2000 daily",
    "Part time job, earn daily 3000",
    "Instant personal loan without documents",
    "Congratulations you have won KBC lottery",
    "Call girls available in Andheri",
    "High profile escort service",
    "Ghar baithe kamaye 30000 mahina",
    "Paisa double scheme",
    "DM for details",
    "Join our telegram group for rooms",
    "Join our teligram group for rooms",  # misspelt app names are read as the app
    "Earn 3,000 per day from your phone",  # numbers stand for any number
    "Crypto investment plan, double your money",
    # Round 2,
    "Earn 50k from home! Only 2 hrs daily.",
    "Typing job from home, 500 per page",
    "Get loan on Aadhaar only, approval in 5 minutes",
    "Aviator game tricks 100% win",
    "Rich aunties need young boys, earn 20k per meeting",
]

NOT_SPAM = [
    "Pay token amount to block the room, rest on move-in. UPI accepted.",
    "Please don't pay anything without visiting the flat first!",
    "I work from home, earn in USD, need good wifi",
    "100% safe area for girls",
    "Same-sex couples welcome, unisex salon nearby",
    "Society has a WhatsApp group for residents",
    "Flat near Deltin casino, Panjim",
    "Matka water and RO both available",
    "DM not available, use the reveal button",
    "Army officer family looking for 2BHK near Cantonment",
    "Rooms in Essex Heights and Middlesex Apartments",
    "I have a part time job near college, need a room",
    "I work at a forex desk in BKC, need a 1BHK nearby",
    "PG registration fee 500, non refundable",
    "Use the reveal button to get the owner number",
    "I work at a crypto exchange in BKC",
    "Got my flat in the MHADA lottery, renting it out",
    "Won the CIDCO lottery, flat in Ulwe for rent",
    "Singles and doubles in HSR, 8k and 6k",
    # Round 2,
    "I earn 60k per month, looking for a 1BHK under 15k in Baner",
    "I have a part time job in the evenings, need a room near FC Road",
    "Girls PG, available for night shift workers too",
]


SCAMS = [
    "Advance token pay now via UPI to confirm your room",
    "Pay 2000 on GPay to confirm, no visit needed",
    "I will courier the keys once you pay",
    "Send 5000 token on PhonePe, keys by post",
    "I am an army officer, transferred. Send advance on PhonePe, keys will be couriered.",
    "Book now: transfer 3000 to my UPI id before visit",
    "Booking amount 2000 PhonePe karo, keys courier se bhej dunga",
    "Pehle 5000 token bhejo GPay pe, phir flat dikhayenge",
    "I am in Dubai, pay 10000 advance on Google Pay to book",
    "Token amount via GPay to rahul@okaxis then share ID",
    "Transfer 2500 to get the owner number",
    # Round 2,
    "Pay to UPI rentdesk@ybl to block the flat, visit only after payment.",
    "I will send a QR code, scan it to RECEIVE your deposit refund",
    "CISF officer transferred, 2BHK Powai, pay security deposit by Paytm and take possession.",
    "Gate pass fee 1500 must be paid online before visiting the flat.",
    "Rs 500 visiting charges first, then I will share address",
    "Token amount 3000 on Google Pay, 100% refundable if you don't like the room",
    "Share the OTP you receive to get the refund",
]

NOT_SCAMS = [
    "Pay token amount to block the room, rest on move-in. UPI accepted.",
    "Please don't pay any advance before visiting the flat!",
    "Beware of fake owners asking for token on PhonePe before the visit.",
    "No advance before visit please, I am not that kind of owner.",
    "Token 2000 on the day of visit, rest on agreement, UPI fine.",
    "Owner stays abroad, caretaker will show the flat on weekends.",
    "Owner is in the army, his wife shows the flat, rent via bank transfer.",
    "Rent to be paid on 1st by GPay, keys handed over at agreement.",
    "Keys with the watchman, come and see any time. Call before visiting.",
    # Round 2,
    "Army officer transferred to Pune, looking for a 2BHK near Wanowrie, 25k budget",
    "Keys will be handed over after the agreement is signed at the registrar office",
    "Security deposit 2 months, refundable. Paytm office nearby.",
    "Scan the QR code at the gate for visitor entry",
    "No visiting charges, rent 15k, Andheri",
]


@pytest.mark.parametrize("text", SCAMS)
def test_advance_fee_scams_are_caught(content_filter, text):
    assert rule_of(content_filter, text) == "scam"


@pytest.mark.parametrize("text", NOT_SCAMS)
def test_talk_of_tokens_apps_and_absent_owners_is_not_a_scam(content_filter, text):
    assert rule_of(content_filter, text) is None


@pytest.mark.parametrize("text", SPAM)
def test_spam_phrases_are_caught(content_filter, text):
    assert rule_of(content_filter, text) == "spam_phrase"


@pytest.mark.parametrize("text", NOT_SPAM)
def test_housing_talk_near_spam_words_is_not_spam(content_filter, text):
    assert rule_of(content_filter, text) is None


# --- profanity -----------------------------------------------------------------------

ABUSE = [
    "fuck these brokers",
    "FUCK",
    "f.u.c.k this broker",
    "f-u-c-k",
    "f u c k off",
    "fuuuuuck",
    "f*ck",
    "f**k",
    "f*u*c*k",
    "motherf*cker",
    "sh1t place",
    "5h1t",
    "sh!t",
    "@$$hole landlord",
    "a$$",
    "b!tch",
    "Bull$hit listing",
    "chutiya owner",
    "chuuuutiya",
    "ch00tiya",
    "c h u t i y a",
    "ch*tiya",
    "bc landlord",
    "mc ye PG hai",
    "bsdk",
    "BSDK",
    "Bsdk",
    "madarchod",
    "madarch0d",
    "bh3nch0d",
    "behenchod",
    "gaandu secretary",
    "randi rona band karo",
    "harami broker",
    "Kutte broker",
    "lauda",
    "lodu log",
    "l0du",
    "bhosdike!!!",
    "teri maa ki chut",
    "behen ke lode",
    "मादरचोद",
    "ｆｕｃｋ",
    "𝐟𝐮𝐜𝐤",
    "fuсk",  # Cyrillic с
    "fu\u200bck",  # zero-width space
    "fùck",
    "F***",
    "f@cking joke",
    "bhenchodd",  # sound-alike spellings
    "chootiyaa owner",
    "lawde broker",
    "madarjaat",
    "madar chod",  # a compound split in two
    "zavadya owner",  # Marathi
    "jhavadya malak",
    "aai zhavli",
    "bhikarchot",
    "tuzya aaichi gaand",
    "झवाड्या मालक",
    "लौड़ा",
    "saali kutiya",
    "kutte broker",
    # Round 2,
    "MC BC society secretary, teri maa ki...",
]

SCUNTHORPE = [
    "assistant",
    "class",
    "Dickson Road",
    "Hitchcock",
    "shell",
    "cocktail",
    "Sussex",
    "bass",
    "Essex",
    "grape",
    "Matunga",
    "Gandhi Nagar",
    "Gandhinagar",
    "Kandivali",
    "Lodha",
    "Chandigarh",
    "Madhapur",
    "Bhandup",
    "Randhir",
    "Mohali",
    "Sector 17",
    "Bhosari",
    "Lodi Road",
    "Dickenson Road",
    "Scunthorpe",
    "Assam",
    "Kamini Apartments",
    "Cocker spaniel allowed",
    "B.C. Roy Road",
    "MC office",
    "Mc Donalds",
    "room chod ke ja raha hoon, chhod do",
    "Flat A-455, B 455",
    "Rs 5555 per month, flat 1337",
    "f u l l y furnished, a c and t v",
    "teri maa ki tarah khana banane wali aunty",
    "1st, 2nd, 3rd, 4th, 5th and 7th floor",
    "near bc road, Bantwal",
    "PG near mc road",
    "Near mc donalds, Andheri",
    "Near McDonald's Wakad",
    "Ass. Professor at COEP",
    "Small kutiya style cottage",
    "Hamare yahan chhoti si kutiya hai",
    "Kutte billi allowed nahi hain",
    "Bhosale Nagar, Gandharva Nagari, Lavale, Shitole Nagar",
    "Phuket trip planned, Fukat mein nahi",
    # Round 2,
    "Teri Maa ki dua se mila yeh ghar, thanks all",
]


@pytest.mark.parametrize("text", ABUSE)
def test_abuse_is_caught_through_leetspeak_stretching_and_separators(content_filter, text):
    assert rule_of(content_filter, text) == "profanity"


@pytest.mark.parametrize("text", SCUNTHORPE)
def test_place_names_and_innocent_words_are_not_abuse(content_filter, text):
    assert rule_of(content_filter, text) is None


# --- caps and repetition -------------------------------------------------------------

SHOUTING = [
    "ROOM AVAILABLE FOR RENT IN ANDHERI EAST CONTACT IMMEDIATELY",  # urging
    "FLATMATE NEEDED HSR LAYOUT SECTOR 2 CALL NOW",
    "THIS BROKER IS A CHEAT DONT TRUST HIM AT ALL",  # ranting
    "URGENT: NEED 1BHK IN WAKAD!",  # a request's urgency, exclaimed
    "URGENT: NEED 1BHK IN WAKAD\nCALL ME",  # or over more than one line
]

NOT_SHOUTING = [
    "URGENT: need a room in Hinjewadi Phase 1 from next week.",
    "NO BROKER. Direct owner. 1BHK in Velachery, Chennai, 14k rent.",
    "FULLY FURNISHED 2BHK in Hinjewadi phase 2, 21k, available now.",
    "PG AVAILABLE HSR",  # too short to shout
    "2BHK in HSR, BDA layout, near NIFT. AC, TV, RO, WiFi.",
    # Round 2: a short line in capitals that describes a home is a title (tests/data/dev2).
    "PG FOR BOYS AND GIRLS AVAILABLE WITH FOOD WIFI AND LAUNDRY",
    "SPACIOUS 3BHK IN BANJARA HILLS FOR RENT",
    "AVAILABLE NOW: 1RK IN MAHIM, NO BROKERAGE",
    "HOUSE FOR RENT – JAYANAGAR 4TH BLOCK – 2BHK – 30K",
    # Round 10: capitals that neither urge nor rant, however long, exclaimed or spread over
    # lines: how some people type (dev16's "FLAT AVAILABLE!!! 1BHK THANE WEST ...").
    "PG FOR BOYS AND GIRLS AVAILABLE, WITH FOOD!",
    "PG FOR BOYS AND GIRLS AVAILABLE WITH FOOD WIFI AND LAUNDRY NEAR THE METRO STATION IN BANER",
    "2BHK FOR RENT IN BANER\nFULLY FURNISHED, FAMILY ONLY",
    "FLAT AVAILABLE!!! 1BHK THANE WEST MAJIWADA, 18K, NO BROKERAGE.",
]

REPETITIVE = [
    "aaaaaaaaaaaaaaaaaaaa",
    "PG available!!!!!!!!!!!!",
    "heyyyyyyyyy anyone need a room",
    "?????????? where are the rooms",
    "🔥🔥🔥🔥🔥🔥🔥 best deal",
    "room room room room room",
    "cheap cheap cheap cheap flat available",
]

NOT_REPETITIVE = [
    "Room available in wakad!! very good society!!! rent 9k only",
    "2bhk available....near metro....rent 18k",
    "--- 1BHK for rent in Santacruz West ---",
    "Budget ₹10000000 for a 3BHK purchase? No, rent 1,00,000",
    "pleaseee reply",
    "Room room available",
    "1BHK, 2BHK and 3BHK flats available in the same society, rent from 15k",
    "1 BHK, 2 BHK, 3 BHK flats for rent",
]


@pytest.mark.parametrize("text", SHOUTING)
def test_shouting_is_caught(content_filter, text):
    assert rule_of(content_filter, text) == "caps"


@pytest.mark.parametrize("text", NOT_SHOUTING)
def test_short_capitals_are_not_shouting(content_filter, text):
    assert rule_of(content_filter, text) is None


@pytest.mark.parametrize("text", REPETITIVE)
def test_repetition_is_caught(content_filter, text):
    assert rule_of(content_filter, text) == "repetition"


@pytest.mark.parametrize("text", NOT_REPETITIVE)
def test_ordinary_emphasis_is_not_repetition(content_filter, text):
    assert rule_of(content_filter, text) is None


# --- round 3: families of evasion seen in tests/data/dev3 -------------------------------

ROUND3_CAUGHT = [
    # letters typed for digits, junk between the parts, digits one by one
    ("Owner direct: 98Z4O5I7B6", "phone_in_text"),
    ("flat owner: 9B4O-IZ3-AS67", "phone_in_text"),
    ("Call 9840 [remove this] 123 (and this) 456, Adyar", "phone_in_text"),
    ("number = 98 + 40 + 1 + 23 + 4567", "phone_in_text"),
    ("Broker \u202e9 4 9 8 5 4 3 2 1 0\u202c whatsapp only", "phone_in_text"),
    # number words: sound-alikes, stretched, one letter off, more languages
    ("call nine ate for oh won too tree for fife sicks", "phone_in_text"),
    ("nain ait for faiv zeero wan too tree for faiv", "phone_in_text"),
    ("ninerr eightt fourr five zeroo one twoo three four five", "phone_in_text"),
    ("onbadhu ettu naalu onnu poojiyam aaru ezhu ezhu moonu rendu", "phone_in_text"),
    ("tommidi enimidi naalugu okati sunna rendu edu edu aidu moodu", "phone_in_text"),
    ("noy aat char shunno ek dui tin char pach chhoy", "phone_in_text"),
    ("nav aath char shunya ek be tran char panch chha", "phone_in_text"),
    # counted parts far apart or in either order; a number typed backwards
    ("first half 98290, AC room, mess included, second half 41573", "phone_in_text"),
    ("last four digits 2345, first six 984501", "phone_in_text"),
    ("54321 05489 reverse it for the number", "phone_in_text"),
    # handles spaced out, searched for, or named
    ("TG ~ @ bhopal rooms hub (remove the spaces)", "link"),
    ("Insta: @ l u c k n o w . r o o m s", "link"),
    ('Search "Lucknow Flat Owners" on telegrarn', "link"),
    ("Truecaller pe search karo 'Ramesh Broker Kukatpally'", "link"),
    ("faceb00k msg Priya Nair Kochi for the flat", "link"),
    ("telegarm channel: punerentals", "link"),
    ("puneroomsdotcom", "link"),
    # the scam score, in any language
    ("Army officer transferred. Pay 5,000 token via GPay, keys sent by courier.", "scam"),
    ("Token amount 1,500 Paytm first, then only visit allowed", "scam"),
    ("I am Major Vikram, posted in Kochi, only need advance online, I am on duty so cant meet.", "scam"),
    ("Accept the collect request of 4,999 on GPay to lock this room, it's refundable.", "scam"),
    ("Advance munnadiye GPay pannunga, apram thaan saavi anupuvom", "scam"),
    ("Advance aadyam GPay cheyyu, key courier il ayakkam, njan Dubai il aanu.", "scam"),
    # spam
    ("Work from home data entry 25,000/month, registration 999", "spam_phrase"),
    ("Kalyan matka results daily + cheap kholi in Dombivli", "spam_phrase"),
    ("Akeli bhabhi ke saath room share, full masti", "spam_phrase"),
    # abuse
    ("Punda mavane owner, advance thiruppi kudu da", "profanity"),
    ("Lanja kodaka, deposit ivvu ra", "profanity"),
    ("Sule maga broker, Jayanagar alli mosa", "profanity"),
    ("लौड़े, किराया वापस दे", "profanity"),
    ("teri maa ki ch*t, broker", "profanity"),
    ("M.C. B.C. owner never returns deposit", "profanity"),
    ("motherfukcer landlord", "profanity"),
]

ROUND3_CLEAN = [
    "Flat 9B, tower 4A, sector 62, rent 18000, deposit 50000",
    "Rent 8750 + 1250 + 375 water, negotiable",
    "Tenants in 1990s building, rent due on the 21st of every month",
    "Block 7A, 9th floor, flat 904, tower B2, sector 45",
    "For two to three months only, one or two people",
    "I ate at 9, to be free by 10, tree house cafe, for 2 people",
    "Reverse parking not allowed, 2BHK for 25k",
    "First six months rent 9500, then 10000",
    "Pay token amount to block the room, UPI accepted",
    "Token 5000 on GPay to block the flat, owner is NRI, manager shows the flat",
    "Army officer posted in Pune, looking for 2BHK, can pay advance online after visit",
    "I will send photos on request, keys with security, deposit 2 months",
    "The owner is in Dubai, his brother shows the flat on weekends, rent by GPay",
    "I work from home, PG registration fee 500 is fine",
    "Search for \"Green Valley\" society on Google maps, it's near the temple",
    "Facebook Marketplace has the same ad, message Priya here",
    "Truecaller shows my name as Ramesh Owner, so pick up when I call",
    "Sunni masjid nearby, peaceful area, 1BHK 12k",
    "Supriya Sule office is near, 2BHK available",
    "Poori bhaji stall below the building, 1RK 8k",
    "Otha veedu? No, this is a 2BHK near Tambaram",
]


# --- round 4: mechanisms, each probed from both sides --------------------------------

ROUND4_CAUGHT = [
    ("বোকাচোদা দালাল, টাকা ফেরত দে", "profanity"),  # Bengali script read in Devanagari
    ("ભોસરીનો મકાનમાલિક, ડિપોઝિટ પાછી આપ", "profanity"),  # Gujarati, inflected
    ("ਭੈਣਚੋਦ ਬ੍ਰੋਕਰ, ਪੈਸੇ ਵਾਪਸ ਕਰ", "profanity"),  # Gurmukhi
    ("tor maak ch***, amar advance ferot de", "profanity"),  # the masked threat in Bengali
    ("Jo complaint karega uski haddi tod dunga", "profanity"),  # a threat of violence
    ("NRI owner in UK, booking only through Western Union, no viewing", "scam"),
    ("Advance ₹3,000 bhejo tabhi room dikhayenge, Lajpat Nagar", "scam"),
    ("Deposit ₹8,000 in Amazon gift cards only, flat in Kondhwa, 6k", "scam"),
    ("Real cash app khelo, ₹100 signup bonus, PG bhi milega", "spam_phrase"),
    ("website: roomz . co . in /pune — book now", "link"),  # spaced dots, two-label suffix
    ("bit ly / punepg — all PGs in one link", "link"),  # a shortener with a space for its dot
    ("Snapchat: pune . flats — add for pics", "link"),
    ("first five digits are 98230. the last five are 11457, ask for Ravi", "phone_in_text"),
    ("Ph 98.IO.23.45.67 Kothrud room", "phone_in_text"),
]

ROUND4_CLEAN = [
    "সল্টলেকে এক কামরার ফ্ল্যাট, ভাড়া ১২,০০০ টাকা, শুধু ছাত্রীদের জন্য।",
    "ਮੋਹਾਲੀ ਫੇਜ਼ 7 ਵਿੱਚ ਕਮਰਾ ਕਿਰਾਏ ਤੇ, ₹8,000, ਵਿਦਿਆਰਥੀਆਂ ਲਈ।",
    "Beware: someone asked me for a deposit in Amazon gift cards. Never pay that way, report the post.",
    "Western Union branch is right below the building, Karol Bagh. 1RK, 9k.",
    "Rent ₹12,000. Blue/Pink Line metro is 5 minutes away. Phase 2, flat 301.",
    "Tor maa ke haath ka khana ghar jaisa: tiffin service for tenants in Salt Lake.",
    "SPACIOUS 2BHK IN GHATKOPAR EAST — 5 MIN FROM METRO — SEMI FURNISHED — ₹38,000 — FAMILIES PREFERRED",
    "Owner in Canada, local agent does the visits and the agreement; no payment before the visit.",
]


# --- round 5: mechanisms, each probed from both sides --------------------------------

ROUND5_CAUGHT = [
    ("पहले 3000 रुपये एडवांस गूगल पे पर भेजो, चाबी कूरियर से भेज दूंगा। देखने की जरूरत नहीं।", "scam"),
    ("Cheap 1BHK for 5k, transfer the deposit today, I am leaving for my navy posting tomorrow.", "scam"),
    ("Money back guarantee on the token! Pay 8000 advance on GPay to lock the room before anyone else.", "scam"),
    ("Send Aadhar photo and ₹1500 for police verification on WhatsApp, only then we will confirm the room.", "scam"),
    ("Visits not allowed in this society. Pay ₹3,999 booking online and get the key code on SMS.", "scam"),
    ("Vashikaran specialist baba ji, love problem solution in 3 days", "spam_phrase"),
    ("घर बैठे कमाएं 30,000 हर महीने, सिर्फ मोबाइल से", "spam_phrase"),
    ("Massage parlour in Baner, extra services, late night", "spam_phrase"),  # a pair of spam_combinations.txt
    ("telegram pe join karo bhai, id roomspune2025, sab flats wahan hain", "link"),  # a handle words after the app
    ("snap par add karna rooms.mumbai.daily, wahin deal hogi", "link"),
    ("Chu+iya broker, rent 40k for a 1RK?", "profanity"),  # "+" for t
    ("M A D A R C H O D   B R O K E R", "profanity"),  # spaced letters, wider gaps between words
    ("Lund University jaisa mat samajh, lund le broker.", "profanity"),  # a name word in lower case is abuse
    ("NO BROKERS PLEASE. NO BROKERS PLEASE. NO BROKERS PLEASE. NO BROKERS PLEASE.", "repetition"),
    ("best deal best deal best deal best deal on rooms", "repetition"),
    ("URGENT 2BHK AVAILABLE BEST PRICE CALL NOW", "caps"),
]

ROUND5_CLEAN = [
    "PhD student at Lund University visiting IIT Bombay for a semester, looking for a room in Powai.",
    "Reading group meets on Sundays, we are on Philip K. Dick right now; room free in our 3BHK.",
    "URGENT: NEED 1BHK IN WAKAD",  # dev5's false positive: urgency in a request title
    "URGENTLY REQUIRED 2BHK IN BANER FOR A FAMILY OF FOUR",
    "NRI owner, token 5000 on GPay to block after you visit, caretaker shows the flat any evening.",
    "Pay today online to block this room, the owner lives downstairs and will show it.",
    "Police verification is done by the owner at the agreement; bring your Aadhaar card when you come to see the flat.",
    "Happy ending to my flat hunt, thanks all; the room I left in Baner is free now.",
    "Spa and gym in the society; extra services such as a car wash are charged separately.",
    "WhatsApp me.budget is 20k for a 1BHK, Kothrud or Karve Nagar.",
    "Our society WhatsApp group has 300 members; sector62 residents share rooms there after the visit.",
    "Distance: 1.2 km to station, 0.5 km to market, 2 km to school, 3 km to hospital.",
    "Floor 1 office, floor 2 office, floor 3 office, floor 4 residence: owner lives on 4.",
    "घर का किराया 12000, डिपॉज़िट दो महीने का, एग्रीमेंट के समय। चाबी एग्रीमेंट पर मिलेगी।",
]


# --- round 6: mechanisms, each probed from both sides --------------------------------

ROUND6_CAUGHT = [
    # a number described in words: a digit counted out, a part "starts with" / "the rest
    # is", ", then" going on, a spelled digit glued to digits by a dash
    ("Number: 97 then three 4s then 56789", "phone_in_text"),
    ("my mobile begins with 8830, remaining digits are 417 265", "phone_in_text"),
    ("whatsapp: 9 8, then two 7s, then 6 5 4 3 2 1", "phone_in_text"),
    ("phone 99-EIGHT-ONE-SEVEN-ZERO-44221, 1RK Dadar", "phone_in_text"),
    # app names in Indic scripts; a page named in capitals; an id with no app named
    ("টেলিগ্রামে খুঁজুন: kolkata_mess_daily", "link"),
    ("இன்ஸ்டாகிராம்: chennai.rooms.hub", "link"),
    ("Find us on Instagram, account name Pune Budget Homes, DM there.", "link"),
    ("Telegram pe channel hai, naam 'Mumbai Flat Deals', search karke join karo", "link"),
    ("Contact through the app with the green phone logo, user id roomdeals_blr", "link"),
    # scams: kinds of evidence add up; seeing or the address only after paying, in
    # several languages; third-party charges, accounts and access fees; gift vouchers
    ("No site visits until the booking amount of 4,000 reaches my account.", "scam"),
    ("Pay the gate pass and packing charges of 2,800 first; the movers deliver the keys, I am on deployment.", "scam"),
    ("घर देखने से पहले 2000 रुपये टोकन पेटीएम करो, फिर पता भेज दूंगा।", "scam"),
    ("ফ্ল্যাট দেখার আগে ৫০০০ টাকা অ্যাডভান্স GPay করুন, তারপর ঠিকানা পাঠাব।", "scam"),
    ("Pay 999 to our rental service for 15 verified owner contacts in your area, refund if no match.", "scam"),
    ("Army captain posted in Siachen; deposit via IMPS to my wife's account and the keys come by post.", "scam"),
    ("Gift voucher worth 5,000 (Flipkart) as the booking, send the code on chat and the room is yours.", "scam"),
    # an offer with nothing about housing
    ("Crypto arbitrage bot: 3% daily profit, withdraw anytime, join the VIP group.", "spam_phrase"),
    ("Lose belly fat in 15 days with our herbal tea, 100% natural, cash on delivery.", "spam_phrase"),
    ("घर बैठे ऑनलाइन काम, रोज़ 2000 कमाएँ, आज ही जॉइन करें", "spam_phrase"),
    # abuse: southern-script entries inflected, Gujarati endings, caste slurs, threats
    ("ನಿನ್ನಂತಹ ಸೂಳೆಮಗನಿಗೆ ಮನೆ ಕೊಡಲ್ಲ", "profanity"),
    ("Chutiyo malik, pani pan nathi aavtu", "profanity"),
    ("Chamaron ko room nahi denge, saaf log chahiye", "profanity"),
    ("I know where you live, Mehta, return my deposit or else", "profanity"),
    # junk: keyboard mashing, test words, symbols alone
    ("lkjhgfdsa poiuytrewq", "repetition"),
    ("testing testing 1 2 3", "repetition"),
    ("~~~~~~~~~~~~~~~~~~~~~~~~~~~~", "repetition"),
    ("🔥💰🔥💰🔥💰🔥💰🔥💰", "repetition"),
    # phase 2 (families of dev7's and dev8's misses)
    ("my number hides in my name: priya9860123457", "phone_in_text"),
    ("Flat 9922 and deposit 104455, combine both and call", "phone_in_text"),
    ("number starts 88 and ends 1479, middle 0622", "phone_in_text"),
    ("mob 9 8 y y 7 6 5 4 3 2, y = 0", "phone_in_text"),
    ("contact: IX IX VIII VII VI V IV III II I", "phone_in_text"),
    ("find our listings on yt as pune dot flat dot tours", "link"),
    ("insta pe search karo KothrudFlatsDaily, sab photos wahan", "link"),
    ("mail rentdesk at the rate gmail dot com for the list", "link"),
    ("DM kijiye @ThaneRoomsDirect for owners' numbers", "link"),
    ("ईमेल करें: flats.nagpur ॲट जीमेल डॉट कॉम", "link"),
    ("Pay 3000 token first and visit later, two more families are interested, decide quickly.", "scam"),
    ("Hostel allotment guaranteed through our quota, 2500 allotment fee on GPay.", "scam"),
    ("You have been selected for room allotment in our Powai PG, pay 499 document charge to claim your bed.", "scam"),
    ("Dear customer, your gas connection will be disconnected today, update KYC through the link.", "spam_phrase"),
]

ROUND6_CLEAN = [
    "Two 3BHKs and four 2BHKs left in Tower C, rents 32k and 24k.",
    "Deposit 60000 now; the rest is 20000 at the agreement.",
    "टेलीग्राम पर मत ढूंढो, यहीं रिवील बटन दबाओ। कमरा 6000 का है।",
    "Employee ID is on my offer letter, can show it at the agreement; need a 1BHK in Wakad.",
    "Deposit is paid at the agreement, never before seeing the flat; UPI or bank transfer both fine.",
    "Visits not possible on weekdays, only Sunday mornings; token on GPay once you like it.",
    "Membership fee for the clubhouse is 5000 one time, refundable; 3BHK Hiranandani 65k, pay by UPI.",
    "Pay the deposit first and the rent from next month, both by UPI; come see the flat this weekend.",
    "Marketing manager at an FMCG firm, need something near Powai under 30k.",
    "Earning 40k, can pay up to 15k, Kothrud side preferred.",
    "Investment banker and a stock trader, two of us, need a place in Lower Parel.",
    "Chamarajpet 2BHK near the Bull Temple, 22k, Kannadiga family upstairs.",
    "Main flat dekh lunga Sunday ko, abhi Pune ke bahar hu; 1BHK Kothrud chahiye.",
    "This commute will kill you, so take the 1RK next to the office in Magarpatta, 11k.",
    "Test match at Chepauk this week, need a room for 5 days near the stadium.",
    "🙏🙏",
    # phase 2
    "Tower 9, flat 1204, 3BHK for 42000, deposit 1,26,000; visits on Sunday.",
    "Read both listings together: rent 9,800 here and 1,200 maintenance there.",
    "DM @ the society office for parking stickers once you move in; 2BHK Aundh 30k.",
    "I work at Yahoo in Bangalore and need a 1BHK near Embassy Golf Links.",
    "Not a rental service, I'm the owner; rent via UPI, 1BHK Baner 17k.",
    "Room allotment is done by the warden, fees via UPI at the hostel office after you see the room.",
    "Busy today, you can visit later this week; rent 12k by GPay, token 2000 at the agreement.",
    "If you are selected for the Infosys training in Mysuru, our PG near the campus has beds at 7k.",
    "Room in Kundli industrial area, near the Sonipat border, 5k, suits factory staff.",
    "Note: electricity will be disconnected by MSEDCL if the bill is unpaid, tenant pays the bill.",
    "Room above our house in Mysuru for gandu makkalu (boys) only, 4000 a month.",
    "Please call me before visiting, token 5000 by PhonePe to block it.",
    "फ्लॅट बघायला येण्याआधी फोन करा, टोकन Google Pay ने भेटीनंतर. 1BHK, भाडे १५,०००.",
    "Token 2000 on GPay, I'll bring the keys when we meet at the flat.",
]


# Round 7: one case per new mechanism, in other words than tests/data/dev9, dev10 and dev11.
ROUND7_CAUGHT = [
    ("ɪɴꜱᴛᴀ: pune.flats.daily for photos", "link"),  # small capitals
    ("🆃🅴🅻🅴🅶🆁🅰🅼 id roomsbaner22", "link"),  # letters in black squares
    ("I work at Punerooms.com, all flats listed there", "link"),  # a listing site is no employer
    ("Check Booking.com for cheap stays near Baner", "link"),  # a brand sent to
    ("id: kothrud underscore rooms, message there for the list", "link"),
    ("Mail me at roomsbaner on gee mail for the list", "link"),
    ('DM "kothrudflats" on instagram for videos', "link"),
    ("Insta pe \"Baner Flat Hunt\" search karna, sab photos wahan", "link"),
    ('Search "flatsdekho com" on google for more flats', "link"),
    ("Mail me: r o o m s p u n e [at] y a h o o", "link"),
    ("kolkata_rooms id on wa, msg there", "link"),
    ("Ph: 98-2O-1-23-45-7 any time", "phone_in_text"),  # a date-like chain, "2O"
    ("9*8*2*2*0*1*4*5*6*7 2 rooms available", "phone_in_text"),
    ("Dial rent and deposit together for my number: rent 9845, deposit 012345", "phone_in_text"),
    ("Part A: 9876 | Part B: 54 | Part C: 3210, you know what to do. Room in Aundh.", "phone_in_text"),
    ("फोन: अट्ठानवे बाईस पचपन तैंतालीस शून्य एक", "phone_in_text"),  # Hindi 10-59
    ("Your Kirb account is suspended, pay 20 rupees reactivation fee on Paytm within 1 hour.", "scam"),
    ("Army officer posted to Pune, sofa, fridge and car for sale, pay delivery charges 2000, "
     "will send through army logistics.", "scam"),
    ("Government flat in your name under Awas Yojana, pay 15000 file charges today, limited quota.", "scam"),
    ("पहले टोकन 2000 भेजो, फिर रूम दिखाएंगे. जल्दी करो, बहुत लोग पूछ रहे हैं.", "scam"),
    ("Pay the booking amount to my account first, then the visit.", "scam"),
    ("OTP aayega aapke phone pe, mujhe bata do, tab room block hoga", "scam"),
    ("Unlimited owner numbers for just 499, pay on GPay and get the list", "scam"),
    ("Guaranteed call centre job and free hostel room, pay processing fee 2500 to join.", "spam_phrase"),
    ("Brand new Samsung phones at half price, box packed, limited stock.", "spam_phrase"),
    ("Egg donors wanted, get paid 50,000 per cycle.", "spam_phrase"),
    ("Kasam se 50% off on movers and packers, best rates in Pune, book today", "spam_phrase"),
    ("Escorts available near Mujesar metro, room provided", "spam_phrase"),
    ("those brokers are chutiyas, never pay them", "profanity"),  # plurals
    ("आधी डिपॉझिट पाठवा, मग फ्लॅट दाखवतो", "scam"),  # money first, then the visit
    ("Token first, then I will show you the flat.", "scam"),
]

ROUND7_CLEAN = [
    "Software engineer at Amazon.in, looking for a 1BHK near Bellandur, budget 25k.",
    "Working at Zomato.com (Gurgaon), looking for a flatmate in DLF Phase 3, 14k share.",
    "Room near Escorts Hospital, Faridabad, 7500 with food.",
    "I work at Escorts, need a room near Sector 13 Faridabad, 6k max.",
    "ʀᴏᴏᴍ ᴀᴠᴀɪʟᴀʙʟᴇ in Baner, 12k, girls only",
    "G mail or WhatsApp, whichever you like, but please use the reveal button. Room in Baner 9k.",
    'Google "Kothrud Depot" to find the bus stop, the flat is 2 minutes away.',
    "Call and visit together with family: rent 9,800 and maintenance 1,200.",
    "Kirb support helped me remove a fake post. Room in Wakad, 10k, deposit 2 months.",
    "Flat bought under PMAY, renting it out, 9k, visit anytime.",
    "Dekh lo pehle, phir advance dena.",
    "Sealed pack mattress comes with the room, 8k.",
    "Anyone know good packers and movers for a 1BHK shift from Wakad to Baner?",
    "Never share an OTP with anyone claiming to be from Kirb. Room in Kothrud, 10k.",
    "WTF (Whitefield, obviously) - 2BHK, one more person wanted, 15k.",
    "Room in Ameerpet undi, interested unte vachi chudandi, randi.",
    "Room with parking for your car; my old Swift has done 60k km and still fits. 9k rent.",
    "OTP will come to your phone for the society app; share it with the security guard at the gate. 2BHK 20k.",
    "No viewing fee, no brokerage, advance 2 months rent.",
    "H.No 8-3-228/1, Yousufguda, near metro. 2BHK 18k.",
    "I work at amazon.in, need a 1BHK in Bellandur.",
    "Flat near Fortis Escorts, Okhla, 2BHK 25k.",
]


# Round 8: one case per new mechanism, in other words than tests/data/dev12.
ROUND8_CAUGHT = [
    ("Pay 800 visitor fee so that security lets you view the flat, refundable, I am posted in Ladakh.", "scam"),
    ("Approve the collect request I send and you will receive the token of 3000.", "scam"),
    ("Congratulations! You are the lucky winner of a 2BHK for a year, pay 1500 tax to claim it.", "scam"),
    ("Contacts are hidden now, pay 59 to unlock them on Paytm.", "scam"),
    ("PG stay is free for freshers, only a registration of 999 in advance to our account.", "scam"),
    ("Owner numbers for all of Baner: pay 249 and we will send the full list.", "scam"),
    ("Visit not needed, pay 1000 token now and the room is yours.", "scam"),
    ("Without lottery, SRA flat in your name, pay 50k now on GPay.", "scam"),
    ("Booking open, pay to UPI kirbdesk@ybl before noon.", "scam"),
    ("Aapka naam select hua hai, congratulations! 499 bhejo aur flat claim karo.", "scam"),
    ("No fraud, no fake, 100% owner: pay 3000 token on GPay and keys by DTDC, I am in Qatar.", "scam"),
    ("Hotel job in Qatar with accommodation, pay 30,000 processing.", "spam_phrase"),
    ("Number: 9 7 3 O 2 l 4 S 8 6", "phone_in_text"),
    ("9p8q2r2s0t1u4v5w6x7 ignore the letters", "phone_in_text"),
    ("call 88 two 7 zero, 45 six 1 nine for the room", "phone_in_text"),
    ("My number is 97 then 30 then my flat no 4412 then 08. Work it out.", "phone_in_text"),
    ("Flat in Kurla 14k. Call 9930. Deposit 40k. 21. Family only. 8765.", "phone_in_text"),
    ("mail me, my gmail is kavya rao 2001 all joined", "link"),
    ("Find me on Snapchat or Insta, same username for both: kothrudroomies", "link"),
    # phase 2, from tests/data/dev13 and dev14
    ("Cyber cell notice: your PG is unregistered, pay 2,500 online today or face legal action.", "scam"),
    ("Hostel rent subsidy scheme sanctioned for you, register with 350 fee to receive it.", "scam"),
    ("Pay 5 rupees on GPay to prove you are a real tenant, then I share the address.", "scam"),
    ("My company will send 80,000 by cheque, please return the extra amount to my manager on UPI.", "scam"),
    ("Railway job pakka through setting, 1 lakh only, half now.", "scam"),
    ("Your refund is pending, confirm it with your UPI PIN to get 4,000 back.", "scam"),
    ("Install AnyDesk and read me the code so I can send your deposit back.", "scam"),
    ("बधाई हो! लकी ड्रॉ में फ्लैट जीता है, पाने के लिए 2000 शुल्क भेजें।", "scam"),
    ("Adv@nce 4k on Ph0nePe, keys by c0urier, I am in Oman.", "scam"),
    ("Visit charge 300, pay first, then the address will be shared. Too many fake visitors.", "scam"),
    ("Call VII IX VIII II and then 0 1 2 3 4 5 for the room", "phone_in_text"),
    ("number: 9 ke baad do baar 8, phir 7 6 5, last mein 4 3 2 1", "phone_in_text"),
    ("contact Rs. 97654 32109 for the 1RK", "phone_in_text"),
    ("call 9Ч2O3l4S6б for the PG", "phone_in_text"),
    ("samjhdar ko ishara: rent 98761, deposit 23450", "phone_in_text"),
    ("Snap pe dhundo Kothrud rooms: @ k . o . t . h . r . u . d", "link"),
    ('Join the group on the paper plane app, search "Baner Flat Hub"', "link"),
    ("Tamilian log gande hote hain, room mat do", "profanity"),
    ("qwrtp sdfghk zxcvbnm hjkl", "repetition"),
    ("Earn 20,000 week giving 5 star ratings to hotels, joining fee 300.", "spam_phrase"),
    ("Netflix and Hotstar premium, shared accounts, 99 only.", "spam_phrase"),
]

ROUND8_CLEAN = [
    'Anyone who says "send the token and I will courier the keys" is a fraud. See my flat first, 1BHK Baner 16k.',
    "A man told my brother to pay 2000 on PhonePe to unlock the owner's number. Ignore such posts. Room 9k.",
    "Never scan a QR code to receive money. 2BHK Thane, 22k, come and see.",
    "No fee to see the flat, the guard lets you in with an ID. 1BHK 15k.",
    "Congratulations to the new owners downstairs! Our 2BHK is available too, 24k, visit Sunday.",
    "Use the reveal button to unlock my number, it's free. Room in Vashi 9k.",
    "Accommodation is free for the caretaker, salary extra. Farmhouse near Karjat.",
    "Pay the maintenance and we will share the list of society rules. 2BHK Baner 25k.",
    "Got my MHADA flat in the lottery; renting it, 1BHK 15k, visit first.",
    "Call after 7. Rent 18000. Deposit 50000. Flat 1204.",
    "Rooms 1 2 3 and 4 are for girls, 5 6 7 8 for boys. Call through the app.",
    "Guess what, rent is only 9k! Flat 302, visit Sunday.",
    "WhatsApp is what we all use together in the society group. 3BHK 40k.",
    "Working on a Dubai job visa, leaving in 3 months, need a room on short lease, budget 8k.",
    "Don't tell anyone, but the landlord is fine with pets. Room 13k share.",
    # phase 2
    "Saw this flat on MagicBricks.com at a higher rent; owner here, 2BHK Aundh 23k, no brokerage.",
    "URGENT: NEED 2BHK KOTHRUD / KARVE NAGAR FOR MY PARENTS. BUDGET 25K. GROUND FLOOR PLS.",
    "BEWARE: a man here says he is a CISF officer, asks 4,000 token on GPay and promises keys by courier. Don't pay!",
    "Room near Kuthi ghat, 4k, girls only.",
    "Lanja, Ratnagiri: room for a teacher, 3k, near the school.",
    "Pay rent by the 5th or a fine of 100 per day applies. 1BHK Baner 15k.",
    "Please share your ID to prove you are a genuine tenant; no money before the agreement.",
    "Bengali family, very clean, no gandagi, looking for a 2BHK in Salt Lake.",
    "Blocks I, II, III, IV, V and VI are ready; flats in Block V from 15k.",
    "Call for details: Rs 12000 rent, Rs 40000 deposit, Rs 1500 maintenance.",
    "Management quota seat confirmed at Symbiosis, need a PG near the campus, budget 9k.",
    "I work at AnyDesk in Koramangala, need a 1BHK nearby, budget 25k.",
    "Deposit refunded on exit, no questions asked. 2BHK 28k.",
]


# Each round's mechanisms, probed from both sides.
@pytest.mark.parametrize(
    ("text", "rule"), ROUND3_CAUGHT + ROUND4_CAUGHT + ROUND5_CAUGHT + ROUND6_CAUGHT + ROUND7_CAUGHT + ROUND8_CAUGHT
)
def test_each_rounds_evasions_are_caught(content_filter, text, rule):
    assert rule_of(content_filter, text) == rule


@pytest.mark.parametrize(
    "text", ROUND3_CLEAN + ROUND4_CLEAN + ROUND5_CLEAN + ROUND6_CLEAN + ROUND7_CLEAN + ROUND8_CLEAN
)
def test_each_rounds_near_misses_are_accepted(content_filter, text):
    assert rule_of(content_filter, text) is None


def test_the_scam_score_threshold():
    """Money on an app, an owner away and a room blocked score nothing without the room
    kept from view (or a collect request); with keys by courier the score is 5."""
    content_filter = ContentFilter(DEFAULT_CONFIG)
    assert DEFAULT_CONFIG.scam_score_threshold == 4
    post = "Token 5000 on GPay to block the flat, owner is NRI, manager shows the flat"
    assert content_filter._scam_score(*_phrases_and_words(content_filter, post)) == 0
    post = "Pay token amount on UPI to block the room, keys sent by courier"
    assert content_filter._scam_score(*_phrases_and_words(content_filter, post)) == 5


def _phrases_and_words(content_filter, text):
    from security.content_filter import _Post

    post = _Post(text, content_filter)
    return post.phrases, post.words


# --- configuration and data ----------------------------------------------------------


def test_the_first_rule_in_order_wins(content_filter):
    assert rule_of(content_filter, "CALL 9845678901 OR VISIT WWW.ROOMS.IN FUCK") == "link"
    assert rule_of(content_filter, "CALL 9845678901 NOW FOR THE FLAT, FUCKING CHEAP") == "phone_in_text"


def test_thresholds_come_from_the_config():
    assert rule_of(ContentFilter(replace(DEFAULT_CONFIG, min_phone_digits=12)), "call 9845678901") is None
    # One digit short after "call" is a number given with a digit missing.
    assert rule_of(ContentFilter(replace(DEFAULT_CONFIG, min_phone_digits=12)), "call 98456789012") == "phone_in_text"
    assert rule_of(ContentFilter(replace(DEFAULT_CONFIG, min_phone_digits=8)), "call 98456789") == "phone_in_text"
    relaxed = ContentFilter(
        replace(DEFAULT_CONFIG, max_caps_ratio=1.0, max_repeated_char_run=50, max_repeated_word_share=1.0)
    )
    for text in [*SHOUTING, *REPETITIVE]:
        assert relaxed.check(text) is None, text


def test_word_lists_are_read_from_the_data_dir(tmp_path, content_filter):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    with open(tmp_path / "spam_phrases.txt", "a", encoding="utf-8") as phrases:
        phrases.write("\n# added by a moderator\n\nfree biryani scheme\n")
    text = "Room in Andheri, join the FREE biryani-scheme today"
    assert rule_of(ContentFilter(DEFAULT_CONFIG, data_dir=tmp_path), text) == "spam_phrase"
    assert rule_of(content_filter, text) is None


# --- round 9: the review tier ----------------------------------------------------------

# (reason, a post check() passes that review() holds for that reason, a near miss that
# must not be held for it). docs/CONTENT_FILTER.md, "Round 9: the review tier".
REVIEW_SIGNALS = [
    (
        "split_number",
        "2BHK Wakad 18k, starting digits 98230... fully furnished, covered parking, gym, pool... last five 44127. Owner only, call.",
        "Rent 18,000, deposit 54,000 and maintenance 2,500; 2BHK in Wakad.",
    ),
    (
        "code_request",
        "Pay the token by card: send your card number and CVV here, room is yours.",
        "Never share an OTP or your card number with anyone on this board; pay only after the visit. 1RK Aundh, 9k.",
    ),
    ("script_mix", "ƒυcк уσυ all brokers", "यह कमरा खाली है, किराया ₹8000, केवल छात्रों के लिए।"),
    ("profanity_disguised", "fvck off you broker", "Flat 4B, Tower 2, Karve Road, 1BHK for 15k, covered parking."),
    (
        "repetition_near",
        "test test test 123 hello hello is this working test",
        "Room for girls in Kota, room with food, 7000 per month, near coaching.",
    ),
    (
        "spam_model",
        "Plot in Dholera Smart City, guaranteed 40% return in 1 year!! Pay booking amount ₹51,000 today only.",
        "Looking for a 1RK near Hinjewadi Phase 1, budget 9k, vegetarian, can move next week.",
    ),
]


@pytest.mark.parametrize("reason, held, near_miss", REVIEW_SIGNALS, ids=[signal[0] for signal in REVIEW_SIGNALS])
def test_review_holds_each_signal_and_not_its_near_miss(content_filter, reason, held, near_miss):
    assert content_filter.check(held) is None and content_filter.check(near_miss) is None
    assert content_filter.review(held) == reason
    assert content_filter.review(near_miss) != reason


ORDINARY_POSTS = [
    "2BHK in Kothrud, rent 22000, deposit 1 lakh, family preferred.",
    "Looking for a flatmate in Lodha Amara, Thane. 3BHK, one room vacant, rent 16,500 + bills.",
    "Girls PG near Viman Nagar, Pune: twin sharing ₹9,500 with veg food, wifi and RO water.",
    "Need a single room near Salt Lake Sector V, budget 10k, joining next month.",
    "Madhapur",  # too short for the model to be asked
    "shell",
]


def test_review_passes_ordinary_posts(content_filter):
    for text in ORDINARY_POSTS:
        assert content_filter.check(text) is None and content_filter.review(text) is None, text


def test_review_reasons_are_names_never_the_post(content_filter):
    posts = [held for reason, held, near_miss in REVIEW_SIGNALS]
    for text in posts:
        reason = content_filter.review(text)
        assert reason in REVIEW_REASONS
        assert re.fullmatch(r"[a-z_]+", reason)


def test_review_thresholds_come_from_the_config(content_filter):
    text = REVIEW_SIGNALS[-1][1]
    lenient = ContentFilter(
        replace(DEFAULT_CONFIG, review_model_threshold=1e9, review_model_threshold_non_latin=1e9, review_repeated_word_share=1.0)
    )
    assert lenient.review(text) is None
    assert lenient.review("test test test 123 hello hello is this working test") is None
    strict = ContentFilter(replace(DEFAULT_CONFIG, review_model_threshold=-1e9, review_model_threshold_non_latin=-1e9))
    assert strict.review("2BHK in Kothrud, rent 22000, deposit 1 lakh, family preferred.") == "spam_model"
    assert strict.review("कमरा खाली है, किराया ₹8000, परिवार के लिए, स्टेशन के पास") == "spam_model"
    # Short posts are not asked of the model at all (FILTER_REVIEW_MODEL_MIN_WORDS): it
    # learnt from corpora whose honest posts are detailed that a terse one is spam.
    assert strict.review("Room for rent in Pune") is None


def test_review_without_a_model_file_still_runs_its_other_signals(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / spam_model.MODEL_PATH.name).unlink()
    without_model = ContentFilter(DEFAULT_CONFIG, data_dir=tmp_path)
    assert without_model.review(REVIEW_SIGNALS[-1][1]) is None
    assert without_model.review(REVIEW_SIGNALS[0][1]) == "split_number"


def test_spam_model_features_keep_no_number():
    features = spam_model.features(normalise("Call 9822012345, rent ₹18,000"))
    # A number is only its length (capped at 6): no phone number or price is learnt.
    assert not any(re.search(r"\d", re.sub(r"<\d>", "", feature)) for feature in features)
    assert "w:<6>" in features


def test_filter_train_writes_the_shipped_model(tmp_path):
    """The weights file in security/data is what filter_train writes from the tuning
    corpora (deterministic): retrain after changing a corpus."""
    output = tmp_path / "spam_model.json"
    call_command("filter_train", "--output", str(output), "--no-thresholds", stdout=io.StringIO())
    assert output.read_bytes() == spam_model.MODEL_PATH.read_bytes()


# --- the corpora ---------------------------------------------------------------------


def print_figures(capsys, name, score):
    with capsys.disabled():
        print(f"\ncontent filter on {name}: {score.summary()}")


# Corpora the rules were tuned on: "dev", written for this work (every example of the
# issue included); "dev2", round 1's held-out corpus, written by someone else, measured
# once with round 1's rules frozen (119/150 spam caught, 5/150 clean refused), then tuned
# on in round 2; "dev3", round 2's held-out corpus (112/150, 0/150), tuned on in round 3;
# "dev4", round 3's held-out corpus (118/150, 2/150), tuned on in round 4; "dev5", round
# 4's held-out corpus (126/150, 2/150), tuned on in round 5; "dev6", round 5's held-out
# corpus (113/150, 0/150), tuned on in round 6; "dev7" and "dev8", written for round 6 by
# two other authors who saw neither the rules nor the other corpora, measured with round
# 5's rules and with round 6's dev6-derived rules before being tuned on (round 6, phase 2);
# "dev9", round 6's held-out corpus (130/150, 3/150), tuned on in round 7 (phase 1);
# "dev10" and "dev11", written for round 7 by two other authors, measured with round 6's
# rules and with round 7's dev9-derived rules before being tuned on (round 7, phase 2);
# "dev12", round 7's held-out corpus (135/150, 1/150), tuned on in round 8 (phase 1);
# "dev13" and "dev14", written for round 8 by two other authors, measured with round 7's
# rules and with round 8's dev12-derived rules before being tuned on (round 8, phase 2).
TUNING_CORPORA = (
    "dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev8", "dev9", "dev10", "dev11", "dev12", "dev13", "dev14"
)


@pytest.mark.parametrize("corpus", TUNING_CORPORA)
def test_tuning_corpus(content_filter, record_property, capsys, corpus):
    """Corpora the rules were tuned on: their figures measure nothing unseen (tests/data/heldout does)."""
    clean, spam = read_posts(f"{corpus}/clean.txt"), read_posts(f"{corpus}/spam.txt")
    score = score_corpus(content_filter, clean, spam)
    record_property(f"{corpus}_precision", score.precision)
    record_property(f"{corpus}_recall", score.recall)
    print_figures(capsys, f"tests/data/{corpus}", score)
    assert not score.false_positives, "clean posts refused:\n" + "\n".join(
        f"  [{rule}] {post}" for rule, post in score.false_positives
    )
    assert score.recall >= 0.98, "spam missed:\n" + "\n".join(f"  {post}" for post in score.missed)
    held = review_corpus(content_filter, clean, spam)
    record_property(f"{corpus}_spam_held", len(held.spam_held))
    record_property(f"{corpus}_clean_held", len(held.clean_held))
    caught = score.true_positives + len(held.spam_held)
    with capsys.disabled():
        print(f"  with the review tier: {caught}/{score.spam_total} spam refused or held, {len(held.clean_held)} clean held")
    assert caught / score.spam_total >= 0.98


# Round 9: the review tier's clean-held rate on every tuning corpus (the legacy pair,
# dev15 and dev16 included), a regression check with no leave-one-corpus-out: the model was trained
# on these corpora, so the rate is far below what an unseen author's posts meet
# (docs/CONTENT_FILTER.md, "Round 9"), and must stay below the target of 5%
# (FILTER_REVIEW_MODEL_THRESHOLD in kirb_project/settings.py). "dev" is the exception:
# its clean posts are the project's probes, each written as a near miss of a rule (a
# warning quoting a scam, a number that is not a phone, a place that is an abusive
# word), which is what the review tier is for; 12% of them are held, and the bound
# keeps that from growing unnoticed. dev16 (round 9's held-out corpus) is the other:
# only three of round 10's rules come from it, so its spam is mostly the review tier's to
# hold, and the model holds 31 of the rules' 41 misses even trained on them (93.3%); the
# floor keeps that from falling unnoticed.
REVIEW_CLEAN_HELD_TARGET = 0.05
REVIEW_CLEAN_HELD_BOUND_DEV = 0.15
REVIEW_CAUGHT_FLOOR = 0.98
REVIEW_CAUGHT_FLOOR_DEV16 = 0.93


@pytest.mark.parametrize("corpus", ["", *TUNING_CORPORA, "dev15", "dev16"])
def test_review_on_tuning_corpus(content_filter, record_property, capsys, corpus):
    names = ("clean_posts.txt", "spam_posts.txt") if not corpus else (f"{corpus}/clean.txt", f"{corpus}/spam.txt")
    clean, spam = (read_posts(name) for name in names)
    score = score_corpus(content_filter, clean, spam)
    held = review_corpus(content_filter, clean, spam)
    rate = len(held.clean_held) / len(clean)
    record_property(f"{corpus or 'legacy'}_clean_held_rate", rate)
    assert rate <= (REVIEW_CLEAN_HELD_BOUND_DEV if corpus == "dev" else REVIEW_CLEAN_HELD_TARGET), "clean posts held:\n" + "\n".join(
        f"  [{reason}] {post}" for reason, post in held.clean_held
    )
    floor = REVIEW_CAUGHT_FLOOR_DEV16 if corpus == "dev16" else REVIEW_CAUGHT_FLOOR
    assert (score.true_positives + len(held.spam_held)) / len(spam) >= floor


# Round 10's held-out corpus, written by someone else before round 10's rules were
# committed, and never opened by anyone working on the filter. Measured once with the
# rules and the review tier frozen (150/150 refused or held, 0/150 refused, 10/150 held),
# then again after one change to the review tier that the tuning corpora's
# leave-one-corpus-out run argued for, made after that measurement (docs/CONTENT_FILTER.md,
# "Round 10 on its held-out corpus"). Round 9's corpus (134/150 caught, 2/150 refused) is
# dev16 now; a next round tunes on this one as dev17.
@pytest.mark.skipif(not (HELDOUT / "clean.txt").is_file(), reason="no held-out corpus in tests/data/heldout")
def test_heldout_corpus(content_filter, record_property, capsys):
    """tests/data/heldout: written by someone else and never used for tuning. Target:
    no clean post refused, spam refused or held >= 90%, clean posts held <= 5%."""
    clean, spam = read_corpus(HELDOUT / "clean.txt"), read_corpus(HELDOUT / "spam.txt")
    score = score_corpus(content_filter, clean, spam)
    held = review_corpus(content_filter, clean, spam)
    caught = (score.true_positives + len(held.spam_held)) / score.spam_total
    clean_held = len(held.clean_held) / score.clean_total
    record_property("heldout_precision", score.precision)
    record_property("heldout_recall", score.recall)
    record_property("heldout_caught_with_review", caught)
    record_property("heldout_clean_held", clean_held)
    print_figures(capsys, "tests/data/heldout", score)
    with capsys.disabled():
        print(f"  with the review tier: {caught:.1%} of spam refused or held, {clean_held:.1%} of clean posts held")
    if score.false_positives or caught < 0.90 or clean_held > 0.05:
        pytest.fail(
            f"held-out target not reached: {score.summary()}; refused or held {caught:.1%}, clean held "
            f"{clean_held:.1%}; target: no clean post refused, refused or held >= 90%, clean held <= 5%",
            pytrace=False,
        )


def test_filter_report_prints_each_corpus_and_says_when_one_is_missing(tmp_path):
    corpus = tmp_path / "mine"
    corpus.mkdir()
    (corpus / "clean.txt").write_text("# a comment\n\nRoom in Baner, 9k\nFlat 801 802 803 804\n", encoding="utf-8")
    (corpus / "spam.txt").write_text("call 98220 12345\nvisit rooms4u.rent\nRoom in Aundh, 9k\n", encoding="utf-8")
    out = io.StringIO()
    call_command("filter_report", "--corpus", str(corpus), "--corpus", str(tmp_path / "absent"), "--verbose", stdout=out)
    report = out.getvalue()
    assert "spam 3: 2 caught, 1 missed; clean 2: 0 refused" in report
    assert "precision 100.0%  recall 66.7%" in report
    assert "false negative: Room in Aundh, 9k" in report
    assert "with the review tier: spam 2 refused, " in report
    assert "recall (refused or held) " in report and "clean held " in report
    assert f"{tmp_path / 'absent'}: no corpus here" in report


def test_datasets(content_filter, record_property, capsys):
    clean, spam = read_posts("clean_posts.txt"), read_posts("spam_posts.txt")
    assert len(clean) >= 220 and len(spam) >= 120

    flagged = [(verdict.rule, post) for post in clean if (verdict := content_filter.check(post))]
    verdicts = {post: content_filter.check(post) for post in spam}
    missed = [post for post, verdict in verdicts.items() if verdict is None]
    false_positive_rate = len(flagged) / len(clean)
    catch_rate = 1 - len(missed) / len(spam)
    record_property("false_positive_rate", false_positive_rate)
    record_property("catch_rate", catch_rate)
    with capsys.disabled():
        print(
            f"\ncontent filter: {len(flagged)}/{len(clean)} clean posts flagged "
            f"({false_positive_rate:.1%} false positives), "
            f"{len(spam) - len(missed)}/{len(spam)} spam caught ({catch_rate:.1%})"
        )

    assert not flagged, "clean posts flagged:\n" + "\n".join(f"  [{rule}] {post}" for rule, post in flagged)
    assert catch_rate >= 0.95, "spam missed:\n" + "\n".join(f"  {post}" for post in missed)
    # Every rule is exercised by the spam set, not just the easy ones.
    caught_by = Counter(verdict.rule for verdict in verdicts.values() if verdict)
    assert all(caught_by[rule] >= 5 for rule in MESSAGES), caught_by
