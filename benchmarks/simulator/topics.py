"""Topics: what the simulated users ask about, and how a plain base model answers them.

Each topic is a population of users who share 1-3 hidden preferences (a cluster, in UNO's terms). Its intents
carry query templates (the last one of each intent is held out: only ``held_out_queries`` uses it) and a
*neutral* response: formal, answer first, prose, no emoji or filler, metric units, euros. The generator turns
the neutral response into a baseline that violates one hidden preference with ``Preference.violate``.

Travel answers carry a French twin of every sentence (``*_fr`` fields): the phrasebook in ``translation`` is
built from them, so the French preference can rewrite a response exactly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Case = Mapping[str, str]


@dataclass(frozen=True)
class Intent:
    """One kind of question: phrasings, the answer's sentences (with slots) and the slot values (cases)."""

    name: str
    queries: tuple[str, ...]
    answer: str
    details: tuple[str, ...]
    cases: tuple[Case, ...]
    code: str | None = None
    answer_fr: str | None = None
    details_fr: tuple[str, ...] = ()
    min_details: int = 2

    def __post_init__(self) -> None:
        if len(self.queries) < 2:
            raise ValueError(f"intent {self.name!r} needs a training and a held-out query template")
        if self.answer_fr is not None and len(self.details_fr) != len(self.details):
            raise ValueError(f"intent {self.name!r}: every detail needs its French twin")
        if not 0 < self.min_details <= len(self.details):
            raise ValueError(f"intent {self.name!r}: min_details must be in 1..{len(self.details)}")

    @property
    def training_queries(self) -> tuple[str, ...]:
        return self.queries[:-1]

    @property
    def held_out_queries(self) -> tuple[str, ...]:
        return self.queries[-1:]

    def render(self, case: Case, detail_indices: Sequence[int], lang: str = "en") -> str:
        """The neutral response for ``case`` with the chosen details, in English or (travel only) French."""
        if lang == "fr":
            if self.answer_fr is None:
                raise ValueError(f"intent {self.name!r} has no French version")
            values = french_values(case)
            sentences = [self.answer_fr, *(self.details_fr[i] for i in detail_indices)]
            return " ".join(s.format(**values) for s in sentences)
        answer = self.answer.format(**case)
        details = " ".join(self.details[i].format(**case) for i in detail_indices)
        if self.code is None:
            return f"{answer} {details}"
        code = self.code.format(**case)
        return f"{answer}\n\n```python\n{code}\n```\n\n{details}"

    def sentence_pairs(self, case: Case) -> list[tuple[str, str]]:
        """(English, French) for every sentence this intent can say about ``case``."""
        if self.answer_fr is None:
            return []
        values = french_values(case)
        pairs = [(self.answer.format(**case), self.answer_fr.format(**values))]
        pairs.extend(
            (en.format(**case), fr.format(**values)) for en, fr in zip(self.details, self.details_fr, strict=True)
        )
        return pairs


def french_values(case: Case) -> dict[str, str]:
    """Slot values for the French templates: ``x_fr`` replaces ``x`` where it exists."""
    return {key: case.get(f"{key}_fr", value) for key, value in case.items()}


@dataclass(frozen=True)
class Exchange:
    """A query and the base model's neutral answer to it."""

    topic: str
    intent: str
    query: str
    response: str


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    preference_ids: tuple[str, ...]
    # Preferences the base model already follows that users of this topic sometimes restate anyway.
    known_preference_ids: tuple[str, ...]
    intents: tuple[Intent, ...] = field(repr=False)

    @property
    def query_templates(self) -> tuple[str, ...]:
        return tuple(q for intent in self.intents for q in intent.queries)

    def sample(self, rng: random.Random, *, held_out: bool = False) -> Exchange:
        """A random query of this topic with its neutral response (``held_out`` uses the reserved phrasings)."""
        intent = rng.choice(self.intents)
        case = rng.choice(intent.cases)
        template = rng.choice(intent.held_out_queries if held_out else intent.training_queries)
        count = rng.randint(intent.min_details, len(intent.details))
        indices = sorted(rng.sample(range(len(intent.details)), count))
        return Exchange(self.name, intent.name, template.format(**case), intent.render(case, indices))


# ================================================================================================== cooking

_COOKING = Topic(
    name="cooking",
    description="Home cooks asking about recipes, temperatures and food storage.",
    preference_ids=("units-metric", "filler-none"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="roast",
            queries=(
                "How long should I roast {item} for?",
                "What oven temperature should I use to roast {item}?",
                "how do i roast {item} so it doesn't dry out",
                "Any tips for roasting {item} in the oven?",
                "What's the right way to roast {item}?",
            ),
            answer="Roast {item} at {temp} for {time}.",
            details=(
                "{doneness}",
                "Preheat the oven fully before the tray goes in, otherwise the outside will not brown well.",
                "{finish}",
            ),
            cases=(
                {
                    "item": "a whole chicken",
                    "temp": "200 °C",
                    "time": "about 80 minutes if it weighs 1.6 kg",
                    "doneness": "The thickest part of the thigh should reach 75 °C on a meat thermometer.",
                    "finish": "Let it rest for 15 minutes under loose foil before carving.",
                },
                {
                    "item": "a pork shoulder",
                    "temp": "160 °C",
                    "time": "about 4 hours for a 2 kg joint",
                    "doneness": "It is ready when the meat pulls apart easily and reads 90 °C inside.",
                    "finish": "Rest it for 20 minutes so the juices settle before you shred it.",
                },
                {
                    "item": "potatoes",
                    "temp": "220 °C",
                    "time": "40 to 45 minutes, cut into 4 cm chunks",
                    "doneness": "Parboil them for 8 minutes first and shake them in the pan to rough up the edges.",
                    "finish": "Serve them straight away so the crust stays crisp.",
                },
                {
                    "item": "a salmon fillet",
                    "temp": "200 °C",
                    "time": "12 to 15 minutes if it is 2.5 cm thick",
                    "doneness": "The flesh should flake easily and read about 52 °C in the centre.",
                    "finish": "Let it rest for 2 minutes, then squeeze over some lemon.",
                },
                {
                    "item": "root vegetables",
                    "temp": "200 °C",
                    "time": "35 to 40 minutes, cut into 3 cm pieces",
                    "doneness": "Toss them in 30 ml of oil so every piece is coated before roasting.",
                    "finish": "Turn them once halfway through so they colour evenly.",
                },
            ),
        ),
        Intent(
            name="rice",
            queries=(
                "How much water do I need for {amount} of {rice}?",
                "what's the water to rice ratio for {rice}",
                "How do I cook {rice} on the stove?",
                "My {rice} always turns out mushy, what am I doing wrong?",
                "Can you explain how to cook {rice} properly?",
            ),
            answer="Use {water} of water for {amount} of {rice} and simmer it covered for {time}.",
            details=(
                "Rinse the rice in cold water until it runs clear to remove the surface starch.",
                "When the time is up, take the pan off the heat and leave the lid on for 10 minutes.",
                "{extra}",
            ),
            cases=(
                {
                    "rice": "basmati rice",
                    "amount": "200 g",
                    "water": "300 ml",
                    "time": "12 minutes",
                    "extra": "Soaking basmati for 20 minutes first gives longer, separate grains.",
                },
                {
                    "rice": "jasmine rice",
                    "amount": "200 g",
                    "water": "280 ml",
                    "time": "12 minutes",
                    "extra": "Jasmine rice is meant to be slightly sticky, so do not stir it while it cooks.",
                },
                {
                    "rice": "brown rice",
                    "amount": "200 g",
                    "water": "450 ml",
                    "time": "35 minutes",
                    "extra": "Brown rice keeps its bran layer, which is why it needs more water and time.",
                },
                {
                    "rice": "sushi rice",
                    "amount": "300 g",
                    "water": "330 ml",
                    "time": "15 minutes",
                    "extra": "Season it with 60 ml of rice vinegar while it is still warm.",
                },
            ),
        ),
        Intent(
            name="bake",
            queries=(
                "What temperature should I bake {bake} at?",
                "How long should {bake} stay in the oven?",
                "tips for baking {bake}?",
                "how do I know when my {bake} is done",
                "What's the best way to bake {bake} at home?",
            ),
            answer="Bake {bake} at {temp} for {time}.",
            details=("{done}", "{tip}", "Oven temperatures vary, so start checking 5 minutes before the end."),
            cases=(
                {
                    "bake": "banana bread",
                    "temp": "180 °C",
                    "time": "55 to 60 minutes in a 900 g loaf tin",
                    "done": "A skewer pushed into the middle should come out clean.",
                    "tip": "Use very ripe bananas, about 350 g once peeled, for the best flavour.",
                },
                {
                    "bake": "a sourdough loaf",
                    "temp": "240 °C",
                    "time": "20 minutes with the lid on, then 25 minutes at 220 °C without it",
                    "done": "The crust should be deep brown and the base should sound hollow when tapped.",
                    "tip": "Preheat the pot for 45 minutes so the dough gets a strong burst of heat.",
                },
                {
                    "bake": "chocolate chip cookies",
                    "temp": "180 °C",
                    "time": "10 to 12 minutes",
                    "done": "The edges should be golden while the centres still look slightly soft.",
                    "tip": "Chill the dough for 30 minutes so the cookies spread less.",
                },
                {
                    "bake": "a sponge cake",
                    "temp": "180 °C",
                    "time": "about 25 minutes in two 20 cm tins",
                    "done": "The top should spring back when pressed lightly.",
                    "tip": "Weigh the eggs and use the same weight of butter, sugar and flour, about 200 g each.",
                },
                {
                    "bake": "focaccia",
                    "temp": "220 °C",
                    "time": "20 to 25 minutes in a 30 cm tray",
                    "done": "It is done when the top is golden and the underside is crisp.",
                    "tip": "Drizzle 40 ml of olive oil over the dimpled dough just before baking.",
                },
            ),
        ),
        Intent(
            name="leftovers",
            queries=(
                "How long can I keep cooked {food} in the fridge?",
                "is it safe to freeze leftover {food}?",
                "best way to store leftover {food}?",
                "how do I reheat {food} safely",
                "Can I meal prep {food} for the whole week?",
            ),
            answer="Cooked {food} keeps for {days} in a fridge set to 4 °C or below.",
            details=(
                "Cool it within 1 hour and store it in a shallow airtight container.",
                "{freeze}",
                "{reheat}",
            ),
            cases=(
                {
                    "food": "rice",
                    "days": "1 day",
                    "freeze": "It freezes well for up to 1 month in flat 300 g portions.",
                    "reheat": "Reheat it only once, until it is steaming hot all the way through.",
                },
                {
                    "food": "chicken",
                    "days": "3 days",
                    "freeze": "Frozen in portions of about 200 g, it keeps for 3 months.",
                    "reheat": "Reheat it until the centre reaches 75 °C.",
                },
                {
                    "food": "soup",
                    "days": "4 days",
                    "freeze": "Freeze it in 500 ml containers and leave 2 cm of space for it to expand.",
                    "reheat": "Bring it back to a full boil before serving.",
                },
                {
                    "food": "pasta",
                    "days": "3 to 5 days",
                    "freeze": "Plain pasta freezes for 2 months, although the texture softens a little.",
                    "reheat": "Reheat it with 30 ml of water in a covered pan so it does not dry out.",
                },
            ),
        ),
        Intent(
            name="substitute",
            queries=(
                "What can I use instead of {ingredient} in {dish}?",
                "I ran out of {ingredient}, what's a good substitute for {dish}?",
                "substitute for {ingredient} in {dish}?",
                "Can I replace {ingredient} with something else when making {dish}?",
                "Is there an alternative to {ingredient} for {dish}?",
            ),
            answer="{swap}",
            details=("{effect}", "Try the swap on a small batch before you rely on it for a special occasion."),
            cases=(
                {
                    "ingredient": "buttermilk",
                    "dish": "pancakes",
                    "swap": "Stir 15 ml of lemon juice into 250 ml of milk and let it stand for 10 minutes.",
                    "effect": "The acid thickens the milk slightly and still reacts with the baking soda.",
                },
                {
                    "ingredient": "eggs",
                    "dish": "muffins",
                    "swap": "Replace each egg with 60 g of unsweetened apple puree or one mashed banana.",
                    "effect": "The muffins will be a little denser and moister, which most people like.",
                },
                {
                    "ingredient": "butter",
                    "dish": "a cake",
                    "swap": "Use 80 ml of a neutral oil for every 100 g of butter.",
                    "effect": "The cake will be softer and keep longer, but it loses the buttery taste.",
                },
                {
                    "ingredient": "cream",
                    "dish": "a pasta sauce",
                    "swap": "Mix 200 g of full-fat yoghurt with 10 g of flour and stir it in off the heat.",
                    "effect": "The flour stops the yoghurt from splitting when the sauce is warm.",
                },
            ),
        ),
        Intent(
            name="steak",
            queries=(
                "How do I cook a {cut} steak {doneness}?",
                "what temperature is a {doneness} {cut}",
                "how long per side for a {doneness} {cut} steak",
                "Pan or grill for a {doneness} {cut}?",
                "How should I cook a {cut} to {doneness}?",
            ),
            answer="For a {doneness} {cut}, cook it until the centre reaches {core}.",
            details=(
                "A {thickness} steak needs about {minutes} per side in a very hot pan.",
                "Let it rest for 5 minutes on a warm plate before slicing.",
                "Pat the steak dry and season it well just before it goes into the pan.",
            ),
            cases=(
                {
                    "cut": "ribeye",
                    "doneness": "medium-rare",
                    "core": "54 °C",
                    "thickness": "2.5 cm",
                    "minutes": "3 minutes",
                },
                {"cut": "sirloin", "doneness": "medium", "core": "60 °C", "thickness": "2 cm", "minutes": "4 minutes"},
                {
                    "cut": "fillet",
                    "doneness": "rare",
                    "core": "50 °C",
                    "thickness": "4 cm",
                    "minutes": "2 to 3 minutes",
                },
                {
                    "cut": "rump",
                    "doneness": "medium-well",
                    "core": "65 °C",
                    "thickness": "2 cm",
                    "minutes": "5 minutes",
                },
            ),
        ),
        Intent(
            name="pasta",
            queries=(
                "How much {pasta} do I need for {people} people?",
                "cooking {pasta} for {people}, how much should i make?",
                "How much water and salt for {people} portions of {pasta}?",
                "What's a normal portion of {pasta} when feeding {people}?",
                "I'm feeding {people} people {pasta}, how much do I buy?",
            ),
            answer="Cook about {amount} of dried {pasta} for {people} people, roughly 100 g per person.",
            details=(
                "Use at least {water} of water so the pasta can move freely.",
                "Salt the water generously once it is boiling.",
                "Save 100 ml of the cooking water to loosen the sauce at the end.",
            ),
            cases=(
                {"pasta": "spaghetti", "people": "4", "amount": "400 g", "water": "4 litres"},
                {"pasta": "penne", "people": "2", "amount": "200 g", "water": "2 litres"},
                {"pasta": "linguine", "people": "6", "amount": "600 g", "water": "6 litres"},
                {"pasta": "fusilli", "people": "3", "amount": "300 g", "water": "3 litres"},
            ),
        ),
        Intent(
            name="frying",
            queries=(
                "what temp should the oil be for {food}",
                "How hot should the oil be to fry {food}?",
                "Frying {food} at home, what oil temperature?",
                "how long do I deep fry {food} for?",
                "What's the right oil temperature for {food}?",
            ),
            answer="Heat the oil to {temp} before frying {food}.",
            details=(
                "{timing}",
                "Fry in small batches so the temperature does not drop below {low}.",
                "Use a deep pan no more than one third full, about 1 litre of oil for a 24 cm pan.",
            ),
            cases=(
                {
                    "food": "chips",
                    "temp": "175 °C",
                    "low": "160 °C",
                    "timing": "Cook 1 cm chips for 6 minutes, rest them, then fry again at 190 °C for 2 minutes.",
                },
                {
                    "food": "chicken pieces",
                    "temp": "170 °C",
                    "low": "155 °C",
                    "timing": "Pieces of about 100 g need 10 to 12 minutes until they reach 75 °C inside.",
                },
                {
                    "food": "tempura",
                    "temp": "180 °C",
                    "low": "170 °C",
                    "timing": "Vegetable tempura needs only 2 to 3 minutes until the batter is pale and crisp.",
                },
                {
                    "food": "doughnuts",
                    "temp": "180 °C",
                    "low": "170 °C",
                    "timing": "Fry each side for about 1 minute until it is golden.",
                },
            ),
        ),
    ),
)

# ================================================================================================== finance

_FINANCE = Topic(
    name="personal_finance",
    description="People managing budgets, debt, savings and investments in euros.",
    preference_ids=("currency-eur", "citations-required", "structure-answer-first"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="emergency_fund",
            queries=(
                "How big should my emergency fund be if I spend €{spend} a month?",
                "emergency fund size? my monthly costs are about €{spend}",
                "How many months of expenses should I keep in savings on €{spend} a month?",
                "Is €{low} enough for an emergency fund when I spend €{spend} monthly?",
                "What emergency savings target makes sense for €{spend} of monthly spending?",
            ),
            answer="You should keep three to six months of expenses, which is €{low} to €{high} for you.",
            details=(
                "Hold it in an instant-access savings account so you can reach it without penalties.",
                "If your income is irregular, aim for the upper end of that range.",
                "Build it before you invest, because it stops a surprise bill from turning into debt.",
            ),
            cases=(
                {"spend": "1,500", "low": "4,500", "high": "9,000"},
                {"spend": "2,000", "low": "6,000", "high": "12,000"},
                {"spend": "2,800", "low": "8,400", "high": "16,800"},
                {"spend": "3,500", "low": "10,500", "high": "21,000"},
            ),
        ),
        Intent(
            name="debt_or_invest",
            queries=(
                "Should I pay off my {debt} at {rate}% before I start investing?",
                "{debt} at {rate}% - pay it down or invest instead?",
                "is it smarter to clear a {rate}% {debt} or put money in an index fund",
                "I have €{balance} on a {debt} at {rate}%, should I invest or repay first?",
                "Would you repay a {debt} charging {rate}% before investing?",
            ),
            answer="{verdict}",
            details=(
                "On a €{balance} balance, the interest costs about €{cost} a year.",
                "{reason}",
                "Keep paying at least the minimum on every debt while you decide.",
            ),
            cases=(
                {
                    "debt": "credit card",
                    "rate": "19",
                    "balance": "4,000",
                    "cost": "760",
                    "verdict": "Yes, you should pay off the €4,000 card balance first, because 19% interest beats "
                    "typical investment returns.",
                    "reason": "Repaying it is a guaranteed return that no investment can promise.",
                },
                {
                    "debt": "car loan",
                    "rate": "6",
                    "balance": "12,000",
                    "cost": "720",
                    "verdict": "It is close, but paying down a €12,000 car loan at 6% is usually the better choice "
                    "for a cautious saver.",
                    "reason": "Long-term stock returns are similar, but they come with risk that the loan does not.",
                },
                {
                    "debt": "student loan",
                    "rate": "2",
                    "balance": "20,000",
                    "cost": "400",
                    "verdict": "No, you should invest first, because a €20,000 loan at 2% costs less than "
                    "inflation and typical returns.",
                    "reason": "Cheap debt can sit alongside your investments as long as the payments are comfortable.",
                },
            ),
        ),
        Intent(
            name="budget",
            queries=(
                "How should I budget a take-home salary of €{salary} a month?",
                "budget split for €{salary} net per month?",
                "What is a good way to divide €{salary} of monthly income?",
                "i earn €{salary} after tax, how much should go to savings",
                "Can you suggest a simple budget for €{salary} a month?",
            ),
            answer="A 50/30/20 split works well: €{needs} for needs, €{wants} for wants and €{save} for savings.",
            details=(
                "Needs are rent, utilities, groceries and loan minimums.",
                "Automate the €{save} transfer on payday so saving happens before spending.",
                "Review the split after three months and adjust it to your real costs.",
            ),
            cases=(
                {"salary": "2,200", "needs": "1,100", "wants": "660", "save": "440"},
                {"salary": "3,000", "needs": "1,500", "wants": "900", "save": "600"},
                {"salary": "4,500", "needs": "2,250", "wants": "1,350", "save": "900"},
                {"salary": "1,800", "needs": "900", "wants": "540", "save": "360"},
            ),
        ),
        Intent(
            name="house_deposit",
            queries=(
                "How much do I need to save for a deposit on a €{price} flat?",
                "deposit for a €{price} apartment, how much?",
                "What upfront cash do I need to buy a €{price} home?",
                "Saving for a €{price} house - what's the target?",
                "How big a down payment should I plan for a €{price} property?",
            ),
            answer="You should aim for €{deposit} as a 20% deposit plus about €{fees} for fees and taxes.",
            details=(
                "A smaller deposit is often possible, but it raises the interest rate and the monthly payment.",
                "Fees usually include notary costs, transfer taxes and a bank arrangement fee.",
                "Keep your emergency fund separate from the deposit savings.",
            ),
            cases=(
                {"price": "250,000", "deposit": "50,000", "fees": "20,000"},
                {"price": "180,000", "deposit": "36,000", "fees": "14,400"},
                {"price": "400,000", "deposit": "80,000", "fees": "32,000"},
            ),
        ),
        Intent(
            name="index_fund",
            queries=(
                "Is it better to invest €{amount} in an index fund or in individual stocks?",
                "index fund or stock picking for €{amount}?",
                "where should i put €{amount}, ETF or single shares",
                "I have €{amount} to invest for ten years, fund or stocks?",
                "Should €{amount} go into a world ETF or a few companies I like?",
            ),
            answer="An index fund is the better choice for €{amount} for most people, because it spreads the "
            "money over hundreds of companies at low cost.",
            details=(
                "Look for a total expense ratio below 0.3% a year.",
                "Picking individual stocks adds risk without a reliable extra return for most investors.",
                "Invest regularly rather than trying to time the market.",
            ),
            cases=({"amount": "5,000"}, {"amount": "20,000"}, {"amount": "1,000"}, {"amount": "50,000"}),
        ),
        Intent(
            name="retirement",
            queries=(
                "How much should I save for retirement at {age} earning €{salary} a year?",
                "retirement savings at {age} on €{salary}, what percentage?",
                "Am I saving enough for retirement if I'm {age} and make €{salary}?",
                "What should a {age} year old on €{salary} put aside for a pension?",
                "How much of a €{salary} salary should go to retirement at age {age}?",
            ),
            answer="At {age}, you should save about {pct}% of your salary, which is €{amount} a year on €{salary}.",
            details=(
                "Employer contributions count towards that figure, so take any matching in full.",
                "Raise the rate by one point each time you get a pay rise.",
                "A low-cost pension fund or index fund is a sensible default for long horizons.",
            ),
            cases=(
                {"age": "25", "salary": "35,000", "pct": "10", "amount": "3,500"},
                {"age": "35", "salary": "50,000", "pct": "15", "amount": "7,500"},
                {"age": "45", "salary": "60,000", "pct": "20", "amount": "12,000"},
            ),
        ),
        Intent(
            name="card_interest",
            queries=(
                "How much interest will I pay on a €{balance} credit card balance at {rate}%?",
                "what does carrying €{balance} on my card at {rate}% cost me",
                "Credit card interest on €{balance}, APR {rate}%?",
                "If I only pay the minimum on €{balance} at {rate}%, how much interest is that?",
                "Roughly what interest does a €{balance} card balance at {rate}% cost per year?",
            ),
            answer="At {rate}%, a €{balance} balance costs about €{yearly} a year in interest, or €{monthly} a month.",
            details=(
                "Paying only the minimum can stretch repayment over many years.",
                "A balance transfer card with a 0% period can cut the cost if you clear it in time.",
                "Pay more than the minimum and target the highest-rate card first.",
            ),
            cases=(
                {"balance": "2,000", "rate": "20", "yearly": "400", "monthly": "33"},
                {"balance": "5,000", "rate": "18", "yearly": "900", "monthly": "75"},
                {"balance": "800", "rate": "24", "yearly": "192", "monthly": "16"},
            ),
        ),
        Intent(
            name="savings_rate",
            queries=(
                "Is a savings account paying {rate}% worth it for €{amount}?",
                "{rate}% on €{amount} in savings, good or bad?",
                "Should I keep €{amount} in a savings account at {rate}% interest?",
                "how much will €{amount} earn at {rate}% in a year",
                "Does a {rate}% savings rate make sense for €{amount}?",
            ),
            answer="Yes, {rate}% is worth it for cash you need soon, and €{amount} would earn about €{interest} "
            "a year.",
            details=(
                "Compare the rate with inflation, because real returns can still be negative.",
                "Money you will not need for five years or more usually belongs in investments instead.",
                "Check that the bank is covered by a deposit guarantee scheme.",
            ),
            cases=(
                {"rate": "3", "amount": "10,000", "interest": "300"},
                {"rate": "2.5", "amount": "5,000", "interest": "125"},
                {"rate": "4", "amount": "20,000", "interest": "800"},
            ),
        ),
    ),
)

# ================================================================================================== python

_PYTHON = Topic(
    name="python_programming",
    description="Developers asking for small Python snippets.",
    preference_ids=("code-type-hints", "emoji-none"),
    known_preference_ids=("code-fenced", "language-en", "tone-polite"),
    intents=(
        Intent(
            name="dedupe",
            queries=(
                "How do I remove duplicates from a list of {items} but keep the order?",
                "python: dedupe a list of {items} without losing order",
                "What's the fastest way to get unique {items} from a list in Python?",
                "remove duplicate {items} from list python",
                "Best way to deduplicate {items} in a Python list?",
            ),
            answer="Use dict.fromkeys, which keeps the first occurrence of each item in its original order.",
            code="def unique_{fn}({param}: list[{type}]) -> list[{type}]:\n    return list(dict.fromkeys({param}))",
            details=(
                "This runs in linear time, unlike checking membership in a list inside a loop.",
                "If the order does not matter, building a set is shorter but returns the items in any order.",
            ),
            min_details=1,
            cases=(
                {"items": "emails", "fn": "emails", "param": "emails", "type": "str"},
                {"items": "user ids", "fn": "user_ids", "param": "user_ids", "type": "int"},
                {"items": "tags", "fn": "tags", "param": "tags", "type": "str"},
                {"items": "order numbers", "fn": "orders", "param": "order_numbers", "type": "int"},
            ),
        ),
        Intent(
            name="read_csv",
            queries=(
                "How do I read a CSV file of {what} into a list of dicts in Python?",
                "read {what}.csv in python and get each row as a dict",
                "what's the simplest way to load a CSV of {what} in Python",
                "parse a csv file of {what} python",
                "How can I load {what} from a CSV file using only the standard library?",
            ),
            answer="Use csv.DictReader, which maps each row to a dictionary keyed by the header line.",
            code=(
                "import csv\n"
                "def load_{fn}(path: str) -> list[dict[str, str]]:\n"
                '    with open(path, newline="", encoding="utf-8") as handle:\n'
                "        return list(csv.DictReader(handle))"
            ),
            details=(
                "Every value comes back as a string, so convert numbers after loading.",
                "Opening the file with an empty newline argument keeps quoted line breaks intact.",
            ),
            min_details=1,
            cases=(
                {"what": "customers", "fn": "customers"},
                {"what": "orders", "fn": "orders"},
                {"what": "sensor readings", "fn": "readings"},
                {"what": "invoices", "fn": "invoices"},
            ),
        ),
        Intent(
            name="word_count",
            queries=(
                "How can I count how often each word appears in {text}?",
                "count word frequency in {text} python",
                "Python: find the {n} most common words in {text}",
                "whats the best way to count words in {text}",
                "How do I get word counts from {text} in Python?",
            ),
            answer="Use collections.Counter, which counts the words in one pass and sorts them for you.",
            code=(
                "from collections import Counter\n"
                "def top_words(text: str, n: int = {n}) -> list[tuple[str, int]]:\n"
                "    return Counter(text.lower().split()).most_common(n)"
            ),
            details=(
                "Lower-casing first makes the counts ignore capitalisation.",
                "For punctuation-heavy text, split with a regular expression instead of plain whitespace.",
            ),
            min_details=1,
            cases=(
                {"text": "a text file", "n": "10"},
                {"text": "a list of reviews", "n": "5"},
                {"text": "a chat log", "n": "20"},
            ),
        ),
        Intent(
            name="merge_dicts",
            queries=(
                "How do I merge two dictionaries of {what} in Python?",
                "merge two {what} dicts python where the second one wins",
                "Combine {what} dicts into one in python?",
                "python merge dictionaries of {what} without changing the originals",
                "What is the cleanest way to combine two {what} dictionaries?",
            ),
            answer="Use the union operator, which returns a new dictionary where keys from the second one win.",
            code=(
                "def merge_{fn}(base: dict[str, {type}], extra: dict[str, {type}]) -> dict[str, {type}]:\n"
                "    return base | extra"
            ),
            details=(
                "The operator needs Python 3.9 or newer.",
                "Neither input is modified, which makes the function safe to call on shared defaults.",
            ),
            min_details=1,
            cases=(
                {"what": "settings", "fn": "settings", "type": "str"},
                {"what": "scores", "fn": "scores", "type": "int"},
                {"what": "prices", "fn": "prices", "type": "float"},
            ),
        ),
        Intent(
            name="sort_dicts",
            queries=(
                "How do I sort a list of {what} by {key} in Python?",
                "sort list of {what} dicts by {key} python",
                "Python: order {what} by {key} descending?",
                "sorting {what} by their {key} field",
                "What's the best way to sort {what} on the {key} key?",
            ),
            answer="Use sorted with a key function that reads the {key} field of each row.",
            code=(
                "def sort_by_{key}(rows: list[dict[str, {type}]], reverse: bool = False) -> "
                "list[dict[str, {type}]]:\n"
                '    return sorted(rows, key=lambda row: row["{key}"], reverse=reverse)'
            ),
            details=(
                "Pass reverse=True to get the largest values first.",
                "Sorting is stable, so rows with equal values keep their original order.",
            ),
            min_details=1,
            cases=(
                {"what": "users", "key": "age", "type": "int"},
                {"what": "products", "key": "price", "type": "float"},
                {"what": "files", "key": "size", "type": "int"},
                {"what": "tasks", "key": "due", "type": "str"},
            ),
        ),
        Intent(
            name="retry",
            queries=(
                "How can I retry a {op} in Python when it fails?",
                "python retry {op} 3 times with a delay",
                "What's a simple retry loop for a flaky {op}?",
                "retry on exception python {op}",
                "How should I add retries around a {op} call?",
            ),
            answer="Wrap the call in a small retry helper that waits a little longer after each failure.",
            code=(
                "import time\n"
                "from collections.abc import Callable\n"
                "def retry(action: Callable[[], {result}], attempts: int = 3, delay: float = 1.0) -> {result}:\n"
                "    for attempt in range(1, attempts + 1):\n"
                "        try:\n"
                "            return action()\n"
                "        except {exc}:\n"
                "            if attempt == attempts:\n"
                "                raise\n"
                "            time.sleep(delay * attempt)\n"
                '    raise RuntimeError("attempts must be at least 1")'
            ),
            details=(
                "Catch only the exceptions that are worth retrying, such as {exc}.",
                "For production code, a library such as tenacity adds jitter and logging.",
            ),
            min_details=1,
            cases=(
                {"op": "HTTP request", "result": "bytes", "exc": "ConnectionError"},
                {"op": "database query", "result": "list[tuple[str, int]]", "exc": "TimeoutError"},
                {"op": "file upload", "result": "str", "exc": "OSError"},
            ),
        ),
        Intent(
            name="read_json",
            queries=(
                "How do I load {what} from a JSON file in Python?",
                "python read json file into dict ({what})",
                "parse a JSON {what} file in python",
                "what's the right way to read {what} stored as JSON",
                "How can I read a JSON file with {what} safely?",
            ),
            answer="Use json.loads on the file's text, which returns plain dictionaries and lists.",
            code=(
                "import json\n"
                "from pathlib import Path\n"
                "from typing import Any\n"
                "def load_{fn}(path: Path) -> dict[str, Any]:\n"
                '    return json.loads(path.read_text(encoding="utf-8"))'
            ),
            details=(
                "Passing the encoding explicitly avoids surprises on Windows.",
                "Validate the loaded data before using it, because JSON has no schema of its own.",
            ),
            min_details=1,
            cases=(
                {"what": "settings", "fn": "settings"},
                {"what": "translations", "fn": "translations"},
                {"what": "feature flags", "fn": "flags"},
            ),
        ),
        Intent(
            name="flatten",
            queries=(
                "How do I flatten a list of lists of {what} in Python?",
                "flatten nested list of {what} python",
                "Turn a list of lists of {what} into one flat list?",
                "python one-liner to flatten {what}",
                "What's the simplest way to flatten nested lists of {what}?",
            ),
            answer="Use itertools.chain.from_iterable, which walks each inner list without copying it first.",
            code=(
                "from itertools import chain\n"
                "def flatten_{fn}(groups: list[list[{type}]]) -> list[{type}]:\n"
                "    return list(chain.from_iterable(groups))"
            ),
            details=(
                "This flattens exactly one level of nesting.",
                "For deeper nesting, a recursive generator is clearer than a long comprehension.",
            ),
            min_details=1,
            cases=(
                {"what": "numbers", "fn": "numbers", "type": "int"},
                {"what": "names", "fn": "names", "type": "str"},
                {"what": "coordinates", "fn": "coordinates", "type": "float"},
            ),
        ),
    ),
)

# ================================================================================================== travel

_CITIES: dict[str, dict[str, str]] = {
    "lisbon": {"city": "Lisbon", "city_fr": "Lisbonne"},
    "rome": {"city": "Rome"},
    "kyoto": {"city": "Kyoto"},
    "barcelona": {"city": "Barcelona", "city_fr": "Barcelone"},
    "prague": {"city": "Prague"},
}


def _city(key: str, **fields: str) -> dict[str, str]:
    return {**_CITIES[key], **fields}


_TRAVEL = Topic(
    name="travel",
    description="Travellers planning city trips; this population reads French and wants answers in French.",
    preference_ids=("language-fr", "length-short"),
    known_preference_ids=("tone-polite",),
    intents=(
        Intent(
            name="best_time",
            queries=(
                "When is the best time to visit {city}?",
                "best month to go to {city}?",
                "what time of year should i visit {city}",
                "Planning a trip to {city} - when should I go?",
                "Which season is ideal for a trip to {city}?",
            ),
            answer="The best time to visit {city} is {season}, because {reason}.",
            answer_fr="La meilleure période pour visiter {city} est {season}, car {reason}.",
            details=(
                "{tip}",
                "Check local holidays before you book, because prices rise sharply on those dates.",
            ),
            details_fr=(
                "{tip}",
                "Vérifiez les jours fériés locaux avant de réserver, car les prix augmentent fortement à ces dates.",
            ),
            min_details=1,
            cases=(
                _city(
                    "lisbon",
                    season="spring, from March to May",
                    season_fr="le printemps, de mars à mai",
                    reason="the weather is mild and the streets are not yet crowded",
                    reason_fr="il fait doux et les rues ne sont pas encore bondées",
                    tip="Summer is hot and busy, so book early if you go in July or August.",
                    tip_fr="L'été est chaud et très fréquenté, alors réservez tôt pour juillet ou août.",
                ),
                _city(
                    "rome",
                    season="spring or autumn",
                    season_fr="le printemps ou l'automne",
                    reason="the temperatures are pleasant for walking",
                    reason_fr="les températures sont agréables pour marcher",
                    tip="August is very hot and many small shops close for the holidays.",
                    tip_fr="En août, il fait très chaud et beaucoup de petits commerces ferment.",
                ),
                _city(
                    "kyoto",
                    season="late March or November",
                    season_fr="la fin mars ou le mois de novembre",
                    reason="the cherry blossoms or the autumn leaves are at their best",
                    reason_fr="les cerisiers en fleurs ou les feuillages d'automne sont au plus beau",
                    tip="Those weeks are popular, so reserve your hotel several months ahead.",
                    tip_fr="Ces semaines sont très demandées, alors réservez votre hôtel plusieurs mois à l'avance.",
                ),
                _city(
                    "barcelona",
                    season="May, June or September",
                    season_fr="mai, juin ou septembre",
                    reason="the sea is warm enough to swim and the crowds are smaller",
                    reason_fr="la mer est assez chaude pour se baigner et il y a moins de monde",
                    tip="Avoid August if you dislike crowds and heat.",
                    tip_fr="Évitez le mois d'août si vous n'aimez pas la foule et la chaleur.",
                ),
                _city(
                    "prague",
                    season="May or September",
                    season_fr="mai ou septembre",
                    reason="the days are long and the old town is calmer than in summer",
                    reason_fr="les journées sont longues et la vieille ville est plus calme qu'en été",
                    tip="The Christmas markets in December are lovely but very busy.",
                    tip_fr="Les marchés de Noël en décembre sont magnifiques mais très fréquentés.",
                ),
            ),
        ),
        Intent(
            name="trip_length",
            queries=(
                "How many days should I spend in {city}?",
                "how long do i need to see {city}",
                "Is a long weekend enough for {city}?",
                "How many nights in {city} for a first visit?",
                "What's a good trip length for {city}?",
            ),
            answer="{days} days are enough to see the main sights of {city} at a relaxed pace.",
            answer_fr="{days} jours suffisent pour voir l'essentiel de {city} sans vous presser.",
            details=("{plan}", "Add one more day if you want a day trip outside the city."),
            details_fr=("{plan}", "Ajoutez une journée de plus si vous voulez faire une excursion hors de la ville."),
            min_details=1,
            cases=(
                _city(
                    "lisbon",
                    days="Three",
                    days_fr="Trois",
                    plan="Spend one day in Alfama and Baixa, one in Belém and one in Sintra.",
                    plan_fr="Passez une journée à Alfama et Baixa, une à Belém et une à Sintra.",
                ),
                _city(
                    "rome",
                    days="Four",
                    days_fr="Quatre",
                    plan="Give a full day to the Vatican and another to the Colosseum and the Forum.",
                    plan_fr="Consacrez une journée entière au Vatican et une autre au Colisée et au Forum.",
                ),
                _city(
                    "kyoto",
                    days="Four",
                    days_fr="Quatre",
                    plan="Start early each morning, because the famous temples fill up by ten.",
                    plan_fr="Partez tôt chaque matin, car les temples célèbres sont pleins dès dix heures.",
                ),
                _city(
                    "barcelona",
                    days="Three",
                    days_fr="Trois",
                    plan="Book the Sagrada Família in advance and keep an afternoon for the beach.",
                    plan_fr="Réservez la Sagrada Família à l'avance et gardez un après-midi pour la plage.",
                ),
                _city(
                    "prague",
                    days="Two",
                    days_fr="Deux",
                    plan="Walk the old town on the first day and visit the castle on the second.",
                    plan_fr="Visitez la vieille ville le premier jour et le château le second.",
                ),
            ),
        ),
        Intent(
            name="airport",
            queries=(
                "How do I get from the airport to central {city}?",
                "airport to {city} city centre, cheapest option?",
                "What's the best way into {city} from the airport?",
                "taxi or train from {city} airport?",
                "How should I travel from the airport into {city}?",
            ),
            answer="The easiest way from the airport to central {city} is {mode}, which takes about {minutes} minutes.",
            answer_fr="Le plus simple pour rejoindre le centre de {city} depuis l'aéroport est {mode}, en "
            "environ {minutes} minutes.",
            details=(
                "A single ticket costs around {price} euros.",
                "A taxi costs much more and is only worth it at night or with heavy luggage.",
            ),
            details_fr=(
                "Un billet simple coûte environ {price} euros.",
                "Le taxi coûte bien plus cher et ne vaut la peine que la nuit ou avec de gros bagages.",
            ),
            min_details=1,
            cases=(
                _city("lisbon", mode="the red metro line", mode_fr="la ligne rouge du métro", minutes="25", price="2"),
                _city(
                    "rome",
                    mode="the Leonardo Express train",
                    mode_fr="le train Leonardo Express",
                    minutes="32",
                    price="14",
                ),
                _city(
                    "kyoto",
                    mode="the Haruka express train",
                    mode_fr="le train express Haruka",
                    minutes="75",
                    price="25",
                ),
                _city("barcelona", mode="the Aerobus", mode_fr="l'Aerobus", minutes="35", price="7"),
                _city(
                    "prague",
                    mode="the airport express bus",
                    mode_fr="le bus express de l'aéroport",
                    minutes="35",
                    price="4",
                ),
            ),
        ),
        Intent(
            name="tipping",
            queries=(
                "Do I need to tip in {country}?",
                "how much should i tip in restaurants in {country}",
                "Tipping etiquette in {country}?",
                "Is tipping expected in {country}?",
                "What's the custom for tips in {country}?",
            ),
            answer="{rule}",
            answer_fr="{rule}",
            details=(
                "{detail}",
                "Service is never a reason to leave more than you are comfortable with.",
            ),
            details_fr=(
                "{detail}",
                "Le service ne doit jamais vous pousser à laisser plus que ce qui vous convient.",
            ),
            min_details=1,
            cases=(
                {
                    "country": "Japan",
                    "rule": "Tipping is not expected in Japan and can even cause confusion.",
                    "rule_fr": "Au Japon, le pourboire n'est pas attendu et peut même gêner.",
                    "detail": "Polite thanks and a small bow are the usual way to show appreciation.",
                    "detail_fr": "Un remerciement poli et un léger salut sont la façon habituelle de montrer "
                    "votre satisfaction.",
                },
                {
                    "country": "Italy",
                    "rule": "In Italy, a cover charge is often included, so a tip of a few euros is enough.",
                    "rule_fr": "En Italie, le couvert est souvent compris, donc quelques euros de pourboire suffisent.",
                    "detail": "Look for the word coperto on the bill before deciding.",
                    "detail_fr": "Cherchez le mot coperto sur l'addition avant de décider.",
                },
                {
                    "country": "Portugal",
                    "rule": "In Portugal, rounding up or leaving 5 to 10 percent is appreciated but optional.",
                    "rule_fr": "Au Portugal, arrondir ou laisser 5 à 10 pour cent est apprécié mais facultatif.",
                    "detail": "In cafés, people usually leave the small change.",
                    "detail_fr": "Dans les cafés, on laisse généralement la petite monnaie.",
                },
                {
                    "country": "Spain",
                    "rule": "In Spain, tipping is modest, and 5 percent in restaurants is generous.",
                    "rule_fr": "En Espagne, le pourboire reste modeste, et 5 pour cent au restaurant est généreux.",
                    "detail": "At a bar, people simply leave a few coins.",
                    "detail_fr": "Au bar, on laisse simplement quelques pièces.",
                },
                {
                    "country": "the Czech Republic",
                    "rule": "In the Czech Republic, a tip of about 10 percent is customary in restaurants.",
                    "rule_fr": "En République tchèque, un pourboire d'environ 10 pour cent est d'usage au restaurant.",
                    "detail": "Tell the waiter the total you want to pay instead of leaving coins on the table.",
                    "detail_fr": "Annoncez au serveur le total que vous voulez payer au lieu de laisser des "
                    "pièces sur la table.",
                },
            ),
        ),
        Intent(
            name="packing",
            queries=(
                "What should I pack for {city} in {month}?",
                "packing list for {city} in {month}?",
                "what clothes do i need for {city} in {month}",
                "Going to {city} in {month}, what do I bring?",
                "How should I dress for a {month} trip to {city}?",
            ),
            answer="For {city} in {month}, pack {clothes}.",
            answer_fr="Pour {city} en {month}, prévoyez {clothes}.",
            details=("{weather}", "Comfortable walking shoes matter more than anything else on a city trip."),
            details_fr=(
                "{weather}",
                "De bonnes chaussures de marche comptent plus que tout le reste lors d'un séjour en ville.",
            ),
            min_details=1,
            cases=(
                _city(
                    "lisbon",
                    month="April",
                    month_fr="avril",
                    clothes="light layers and a waterproof jacket",
                    clothes_fr="des couches légères et une veste imperméable",
                    weather="Days are mild, but evenings by the river can be cool and windy.",
                    weather_fr="Les journées sont douces, mais les soirées près du fleuve peuvent être "
                    "fraîches et venteuses.",
                ),
                _city(
                    "kyoto",
                    month="November",
                    month_fr="novembre",
                    clothes="a warm sweater and a light coat",
                    clothes_fr="un pull chaud et un manteau léger",
                    weather="Mornings are cold, while afternoons are often sunny and mild.",
                    weather_fr="Les matinées sont froides, alors que les après-midi sont souvent ensoleillés et doux.",
                ),
                _city(
                    "prague",
                    month="December",
                    month_fr="décembre",
                    clothes="a winter coat, gloves and a hat",
                    clothes_fr="un manteau d'hiver, des gants et un bonnet",
                    weather="Temperatures are often below zero, especially at night.",
                    weather_fr="Les températures sont souvent négatives, surtout la nuit.",
                ),
                _city(
                    "rome",
                    month="July",
                    month_fr="juillet",
                    clothes="breathable clothes, a hat and clothing that covers your shoulders",
                    clothes_fr="des vêtements légers, un chapeau et une tenue qui couvre les épaules",
                    weather="It is very hot, and churches require covered shoulders and knees.",
                    weather_fr="Il fait très chaud, et les églises exigent des épaules et des genoux couverts.",
                ),
                _city(
                    "barcelona",
                    month="October",
                    month_fr="octobre",
                    clothes="summer clothes with one warmer layer",
                    clothes_fr="des vêtements d'été avec une couche plus chaude",
                    weather="The sea is still warm, but a short rain shower is common.",
                    weather_fr="La mer est encore chaude, mais une courte averse est fréquente.",
                ),
            ),
        ),
        Intent(
            name="food",
            queries=(
                "What local food should I try in {city}?",
                "must eat dishes in {city}?",
                "what should i eat in {city}",
                "Which local specialities are worth trying in {city}?",
                "What are the classic dishes to taste in {city}?",
            ),
            answer="In {city}, you should try {dishes}.",
            answer_fr="À {city}, goûtez {dishes}.",
            details=("{where}", "Eating where locals queue is usually a better guide than online rankings."),
            details_fr=(
                "{where}",
                "Manger là où les habitants font la queue est souvent un meilleur guide que les classements en ligne.",
            ),
            min_details=1,
            cases=(
                _city(
                    "lisbon",
                    dishes="pastéis de nata and grilled sardines",
                    dishes_fr="les pastéis de nata et les sardines grillées",
                    where="The pastry shops in Belém are famous for their custard tarts.",
                    where_fr="Les pâtisseries de Belém sont célèbres pour leurs flans.",
                ),
                _city(
                    "rome",
                    dishes="cacio e pepe and carbonara",
                    dishes_fr="les cacio e pepe et la carbonara",
                    where="Trastevere and Testaccio have many traditional trattorias.",
                    where_fr="Le Trastevere et le Testaccio comptent de nombreuses trattorias traditionnelles.",
                ),
                _city(
                    "kyoto",
                    dishes="yudofu and kaiseki cuisine",
                    dishes_fr="le yudofu et la cuisine kaiseki",
                    where="Nishiki Market is a good place to taste many small dishes.",
                    where_fr="Le marché Nishiki est idéal pour goûter de nombreux petits plats.",
                ),
                _city(
                    "barcelona",
                    dishes="pan con tomate and a seafood paella",
                    dishes_fr="le pan con tomate et une paella aux fruits de mer",
                    where="The Boqueria market is lively, but the side streets are cheaper.",
                    where_fr="Le marché de la Boqueria est animé, mais les rues voisines sont moins chères.",
                ),
                _city(
                    "prague",
                    dishes="svíčková and trdelník",
                    dishes_fr="la svíčková et le trdelník",
                    where="Traditional pubs serve hearty lunch menus at good prices.",
                    where_fr="Les brasseries traditionnelles servent des menus copieux à bon prix le midi.",
                ),
            ),
        ),
        Intent(
            name="day_trip",
            queries=(
                "What are good day trips from {city}?",
                "best day trip from {city}?",
                "any easy excursions outside {city}",
                "Where can I go for a day from {city}?",
                "Which nearby places are worth a day trip from {city}?",
            ),
            answer="{trip} is the most popular day trip from {city}, about {minutes} minutes away by train.",
            answer_fr="{trip} est l'excursion la plus populaire depuis {city}, à environ {minutes} minutes en train.",
            details=("{why}", "Leave early to arrive before the tour groups."),
            details_fr=("{why}", "Partez tôt pour arriver avant les groupes de touristes."),
            min_details=1,
            cases=(
                _city(
                    "lisbon",
                    trip="Sintra",
                    minutes="40",
                    why="Its palaces and gardens can easily fill a whole day.",
                    why_fr="Ses palais et ses jardins peuvent facilement occuper une journée entière.",
                ),
                _city(
                    "rome",
                    trip="Tivoli",
                    minutes="60",
                    why="Villa d'Este and Hadrian's Villa are both there.",
                    why_fr="La Villa d'Este et la Villa d'Hadrien s'y trouvent toutes les deux.",
                ),
                _city(
                    "kyoto",
                    trip="Nara",
                    minutes="45",
                    why="Its giant Buddha and tame deer make it a favourite with families.",
                    why_fr="Son grand Bouddha et ses daims apprivoisés en font une sortie appréciée des familles.",
                ),
                _city(
                    "barcelona",
                    trip="Montserrat",
                    minutes="90",
                    why="The monastery sits among dramatic mountains with great hiking trails.",
                    why_fr="Le monastère se trouve au milieu de montagnes spectaculaires avec de beaux sentiers.",
                ),
                _city(
                    "prague",
                    trip="Kutná Hora",
                    minutes="60",
                    why="Its bone chapel and cathedral are unlike anything else in the region.",
                    why_fr="Son ossuaire et sa cathédrale ne ressemblent à rien d'autre dans la région.",
                ),
            ),
        ),
        Intent(
            name="budget",
            queries=(
                "How much money do I need per day in {city}?",
                "daily budget for {city}?",
                "is {city} expensive, how much should i budget a day",
                "What does a mid-range day in {city} cost?",
                "How much should I plan to spend each day in {city}?",
            ),
            answer="Plan on about {budget} euros per day in {city} for a mid-range trip.",
            answer_fr="Prévoyez environ {budget} euros par jour à {city} pour un voyage de gamme moyenne.",
            details=("{split}", "Museums often have a free entry day, which can cut your costs."),
            details_fr=(
                "{split}",
                "Les musées ont souvent une journée gratuite, ce qui peut réduire vos dépenses.",
            ),
            min_details=1,
            cases=(
                _city(
                    "lisbon",
                    budget="120",
                    split="Hotels take about half of that, and meals are cheap.",
                    split_fr="L'hôtel en représente environ la moitié, et les repas sont bon marché.",
                ),
                _city(
                    "rome",
                    budget="160",
                    split="A hotel near the centre is the largest cost by far.",
                    split_fr="Un hôtel près du centre est de loin la plus grosse dépense.",
                ),
                _city(
                    "kyoto",
                    budget="150",
                    split="Temple entry fees add up, so plan for them.",
                    split_fr="Les entrées des temples s'additionnent vite, alors prévoyez-les.",
                ),
                _city(
                    "barcelona",
                    budget="140",
                    split="Lunch menus of the day are good value compared with dinner.",
                    split_fr="Les menus du jour au déjeuner sont avantageux par rapport au dîner.",
                ),
                _city(
                    "prague",
                    budget="100",
                    split="Public transport passes are inexpensive and convenient.",
                    split_fr="Les forfaits de transport en commun sont peu chers et pratiques.",
                ),
            ),
        ),
    ),
)

# ================================================================================================== fitness

_FITNESS = Topic(
    name="fitness",
    description="Recreational athletes asking about training, food and recovery.",
    preference_ids=("units-metric", "emoji-none", "filler-none"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="running_plan",
            queries=(
                "I'm a total beginner, how do I train for {goal}?",
                "beginner plan for {goal}?",
                "How many weeks do I need to get ready for {goal}?",
                "never run before, want to do {goal}, where do i start",
                "What's a realistic training plan for {goal}?",
            ),
            answer="Build up to {goal} over {weeks} weeks with three runs a week.",
            details=(
                "Start with run-walk intervals, such as 1 minute of running and 2 minutes of walking, "
                "repeated 8 times.",
                "Increase your weekly distance by no more than 10 percent, starting from about {start} in week one.",
                "Keep most runs at an easy pace where you can still hold a conversation.",
            ),
            cases=(
                {"goal": "a 5 km race", "weeks": "8 to 9", "start": "6 km"},
                {"goal": "a 10 km race", "weeks": "10 to 12", "start": "12 km"},
                {"goal": "a half marathon of 21.1 km", "weeks": "14 to 16", "start": "18 km"},
            ),
        ),
        Intent(
            name="protein",
            queries=(
                "How much protein do I need per day if I weigh {weight}?",
                "protein intake for {weight} person lifting weights?",
                "im {weight} and training 4x a week, how much protein",
                "Daily protein target at {weight} body weight?",
                "What protein goal makes sense for someone who weighs {weight}?",
            ),
            answer="At {weight}, aim for {low} to {high} of protein per day.",
            details=(
                "Spread it over three or four meals across the day.",
                "Good sources include eggs, Greek yoghurt, lentils, chicken and tofu.",
                "Most people who train regularly do not need supplements if their meals cover this.",
            ),
            cases=(
                {"weight": "60 kg", "low": "96 g", "high": "120 g"},
                {"weight": "75 kg", "low": "120 g", "high": "150 g"},
                {"weight": "90 kg", "low": "144 g", "high": "180 g"},
            ),
        ),
        Intent(
            name="hydration",
            queries=(
                "How much should I drink during {session}?",
                "water intake for {session}?",
                "do i need to drink during {session}",
                "How do I stay hydrated on {session}?",
                "What's the right amount of fluid for {session}?",
            ),
            answer="During {session}, drink about {amount} per hour in small sips.",
            details=(
                "Weigh yourself before and after: each 1 kg lost is roughly 1 litre of fluid to replace.",
                "{extra}",
                "Drink 500 ml in the two hours before you start.",
            ),
            cases=(
                {
                    "session": "a 60 minute run",
                    "amount": "400 to 600 ml",
                    "extra": "Water alone is fine for sessions shorter than 90 minutes.",
                },
                {
                    "session": "a long bike ride",
                    "amount": "500 to 750 ml",
                    "extra": "Add electrolytes when you ride for more than 2 hours or sweat heavily.",
                },
                {
                    "session": "a hot yoga class",
                    "amount": "500 ml",
                    "extra": "A pinch of salt in 1 litre of water helps replace what you sweat out.",
                },
            ),
        ),
        Intent(
            name="lifting_start",
            queries=(
                "What weight should I start with for the {lift}?",
                "beginner starting weight {lift}?",
                "how heavy should my first {lift} be",
                "I'm new to the gym, how much should I {lift_verb}?",
                "How do I choose a starting load for the {lift}?",
            ),
            answer="Start the {lift} with {start} and add {step} each session while your form stays clean.",
            details=(
                "Do 3 sets of 5 repetitions and stop each set with one or two repetitions left in reserve.",
                "Film a set from the side to check your form.",
                "When you miss a target twice, reduce the weight by 10 percent and build back up.",
            ),
            cases=(
                {"lift": "squat", "lift_verb": "squat", "start": "the empty 20 kg bar", "step": "2.5 kg"},
                {"lift": "deadlift", "lift_verb": "deadlift", "start": "40 kg", "step": "5 kg"},
                {"lift": "bench press", "lift_verb": "bench", "start": "the empty 20 kg bar", "step": "2.5 kg"},
                {"lift": "overhead press", "lift_verb": "press overhead", "start": "15 kg", "step": "1 kg"},
            ),
        ),
        Intent(
            name="pace",
            queries=(
                "What's a good pace for a beginner {distance} run?",
                "normal pace for {distance} for a beginner?",
                "is a {pace} pace ok for {distance}",
                "How fast should I run {distance} when starting out?",
                "What pace should a new runner target over {distance}?",
            ),
            answer="A comfortable beginner pace for {distance} is around {pace} per km.",
            details=(
                "If you cannot speak in full sentences, slow down.",
                "Speed comes from consistency, so most runs should feel easy.",
                "Once a week, add 6 strides of 80 m at a faster effort.",
            ),
            cases=(
                {"distance": "5 km", "pace": "7:00"},
                {"distance": "10 km", "pace": "7:15"},
                {"distance": "8 km", "pace": "6:45"},
            ),
        ),
        Intent(
            name="warm_up",
            queries=(
                "How should I warm up before {activity}?",
                "warm up routine for {activity}?",
                "do i really need to warm up before {activity}",
                "What's a quick warm-up for {activity}?",
                "How long should a warm-up before {activity} take?",
            ),
            answer="Before {activity}, spend about 10 minutes warming up, starting with {start}.",
            details=(
                "Follow it with dynamic moves such as leg swings and walking lunges.",
                "{specific}",
                "Save static stretching for after the session.",
            ),
            cases=(
                {
                    "activity": "a 5 km run",
                    "start": "a 1 km easy jog",
                    "specific": "Finish with 4 strides of 80 m at your race pace.",
                },
                {
                    "activity": "heavy squats",
                    "start": "an easy 2 km on an exercise bike",
                    "specific": "Do warm-up sets with the empty 20 kg bar, then 50 and 75 percent of your working "
                    "weight.",
                },
                {
                    "activity": "a football match",
                    "start": "a 400 m jog around the pitch",
                    "specific": "Add short sprints over 20 m to prepare for quick changes of pace.",
                },
            ),
        ),
        Intent(
            name="cycling",
            queries=(
                "How far should I cycle to {goal}?",
                "cycling distance per week to {goal}?",
                "how many km on the bike to {goal}",
                "What cycling volume do I need to {goal}?",
                "How much riding should I do each week to {goal}?",
            ),
            answer="To {goal}, ride about {distance} per week spread over {rides} rides.",
            details=(
                "Keep most rides at a conversational effort around 20 to 25 km/h on flat roads.",
                "Make one ride each week longer than the others.",
                "Check that your saddle height leaves a slight bend in the knee at the bottom of the stroke.",
            ),
            cases=(
                {"goal": "improve general fitness", "distance": "60 km", "rides": "three"},
                {"goal": "get ready for a 100 km sportive", "distance": "150 km", "rides": "four"},
                {"goal": "commute comfortably", "distance": "50 km", "rides": "five short"},
            ),
        ),
        Intent(
            name="walking",
            queries=(
                "How much should I walk a day to lose {amount}?",
                "walking to lose {amount}, how many km a day?",
                "can i lose {amount} just by walking",
                "Daily walking distance to drop {amount}?",
                "How far do I need to walk each day to lose {amount}?",
            ),
            answer="Walking 5 to 6 km a day, about 7,000 to 8,000 steps, can help you lose {amount} over "
            "{months} months alongside a modest calorie deficit.",
            details=(
                "A brisk pace of about 5 km/h burns more than a slow stroll.",
                "Food matters more than distance, so track your meals for a few weeks.",
                "Add strength training twice a week to keep muscle while you lose weight.",
            ),
            cases=(
                {"amount": "5 kg", "months": "3 to 4"},
                {"amount": "10 kg", "months": "6 to 8"},
                {"amount": "3 kg", "months": "2 to 3"},
            ),
        ),
    ),
)

# ================================================================================================== support

_SUPPORT = Topic(
    name="saas_support",
    description="Customers of Tasklane, a project-management SaaS, asking what the product can do.",
    preference_ids=("answer-yes-no", "emoji-none"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="export",
            queries=(
                "Can I export {thing} to CSV?",
                "is there a way to export {thing} as a spreadsheet",
                "Does Tasklane let me download {thing} as CSV?",
                "can we get {thing} out of tasklane into excel?",
                "Am I able to export {thing} from Tasklane?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "thing": "my projects",
                    "answer": "Yes, you can export any project to CSV from Settings > Export.",
                    "first": "The file includes every task with its status, owner and due date.",
                    "second": "Large projects can take a few minutes, and we email you a link when it is ready.",
                },
                {
                    "thing": "time logs",
                    "answer": "Yes, time logs can be exported to CSV from the Reports page.",
                    "first": "You can filter by date range and team member before exporting.",
                    "second": "Admins can also schedule a weekly export to a shared folder.",
                },
                {
                    "thing": "task comments",
                    "answer": "No, comments are not included in CSV exports yet.",
                    "first": "You can retrieve them through the API with the comments endpoint.",
                    "second": "Comment exports are planned for a later release.",
                },
            ),
        ),
        Intent(
            name="billing",
            queries=(
                "Can I {action}?",
                "is it possible to {action} on my account",
                "hi, do you allow customers to {action}?",
                "how do I {action}, or is that not allowed?",
                "Would I be able to {action}?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "action": "switch from monthly to annual billing",
                    "answer": "Yes, you can switch to annual billing at any time from the Billing page.",
                    "first": "The remaining value of your current month is credited to the annual invoice.",
                    "second": "Annual plans include a 15 percent discount.",
                },
                {
                    "action": "get a refund for unused months",
                    "answer": "No, unused months on a monthly plan are not refunded.",
                    "first": "You keep access until the end of the period you have paid for.",
                    "second": "Annual plans cancelled within 14 days receive a full refund.",
                },
                {
                    "action": "pay by bank transfer",
                    "answer": "Yes, bank transfer is available on annual plans.",
                    "first": "Ask our billing team for an invoice with the transfer details.",
                    "second": "Monthly plans can only be paid by card.",
                },
            ),
        ),
        Intent(
            name="integrations",
            queries=(
                "Does Tasklane integrate with {tool}?",
                "can i connect {tool} to tasklane",
                "Is there a {tool} integration?",
                "Will Tasklane work with {tool}?",
                "Can Tasklane talk to {tool}?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "tool": "Slack",
                    "answer": "Yes, Tasklane has a native Slack integration.",
                    "first": "Install it from Settings > Integrations and choose which channels get updates.",
                    "second": "You can also create tasks from a Slack message with the shortcut menu.",
                },
                {
                    "tool": "Google Calendar",
                    "answer": "Yes, due dates can sync to Google Calendar.",
                    "first": "The sync runs in one direction, from Tasklane to your calendar.",
                    "second": "Each user connects their own calendar from their profile page.",
                },
                {
                    "tool": "Jira Server",
                    "answer": "No, Jira Server is not supported.",
                    "first": "Only Jira Cloud can be connected, through the Jira integration.",
                    "second": "For Jira Server, the API and a webhook can cover simple cases.",
                },
                {
                    "tool": "Microsoft Teams",
                    "answer": "Yes, Tasklane works with Microsoft Teams.",
                    "first": "Add the Tasklane app to a team to receive notifications there.",
                    "second": "Task previews appear when someone pastes a Tasklane link.",
                },
            ),
        ),
        Intent(
            name="plan_features",
            queries=(
                "Does the {plan} plan include {feature}?",
                "is {feature} available on {plan}",
                "do we get {feature} with the {plan} plan",
                "{plan} plan: is {feature} included or not?",
                "Is {feature} part of the {plan} plan?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "plan": "Free",
                    "feature": "single sign-on",
                    "answer": "No, single sign-on is only available on the Business plan.",
                    "first": "The Free plan supports email login and Google login.",
                    "second": "You can try Business free for 14 days to test single sign-on.",
                },
                {
                    "plan": "Business",
                    "feature": "single sign-on",
                    "answer": "Yes, the Business plan includes single sign-on with SAML.",
                    "first": "It works with Okta, Azure AD and most SAML providers.",
                    "second": "An admin can enforce it for every member of the workspace.",
                },
                {
                    "plan": "Pro",
                    "feature": "two-factor authentication",
                    "answer": "Yes, two-factor authentication is available on every plan, including Pro.",
                    "first": "Each user turns it on from their security settings.",
                    "second": "Admins on Pro can see which members have enabled it.",
                },
                {
                    "plan": "Pro",
                    "feature": "audit logs",
                    "answer": "No, audit logs are part of the Business plan only.",
                    "first": "Pro workspaces can see recent activity on each project instead.",
                    "second": "Upgrading keeps all your data and takes effect immediately.",
                },
            ),
        ),
        Intent(
            name="recovery",
            queries=(
                "Can I restore {item} after deleting it?",
                "accidentally deleted {item}, can i get it back?",
                "Is there an undo for deleting {item}?",
                "help!! i deleted {item}, is it gone forever?",
                "Is it possible to recover {item} once it is deleted?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "item": "a project",
                    "answer": "Yes, deleted projects can be restored for 30 days.",
                    "first": "Open Settings > Trash and choose Restore next to the project.",
                    "second": "After 30 days the project is removed permanently.",
                },
                {
                    "item": "a comment",
                    "answer": "No, deleted comments cannot be restored.",
                    "first": "Only the comment author or an admin can delete a comment.",
                    "second": "Editing a comment keeps its history, which is safer than deleting it.",
                },
                {
                    "item": "a board",
                    "answer": "Yes, a deleted board stays in the trash for 30 days.",
                    "first": "Restoring it brings back every card and attachment.",
                    "second": "Archiving a board hides it without any time limit.",
                },
            ),
        ),
        Intent(
            name="guests",
            queries=(
                "Can I invite {who} without paying for an extra seat?",
                "do {who} count as paid seats?",
                "is it free to add {who} to our workspace",
                "Will I be charged for adding {who}?",
                "Do I have to pay to invite {who}?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "who": "external clients",
                    "answer": "Yes, you can invite up to 10 clients as free guests.",
                    "first": "Guests only see the projects you share with them.",
                    "second": "Beyond 10 guests, each additional guest uses a paid seat.",
                },
                {
                    "who": "contractors as full members",
                    "answer": "No, every full member uses a paid seat.",
                    "first": "Adding contractors as guests is free if they only need a few projects.",
                    "second": "Seats are billed per month and adjust automatically.",
                },
                {
                    "who": "read-only viewers",
                    "answer": "Yes, viewers are free and unlimited on paid plans.",
                    "first": "Viewers can read tasks and comments but cannot edit anything.",
                    "second": "The Free plan allows up to 3 viewers.",
                },
            ),
        ),
        Intent(
            name="offline",
            queries=(
                "Does the {app} work offline?",
                "can i use the {app} without internet",
                "Is there an offline mode in the {app}?",
                "will the {app} sync later if I'm offline?",
                "Can I keep working in the {app} on a plane?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "app": "iOS app",
                    "answer": "Yes, the iOS app keeps working offline.",
                    "first": "Your recent tasks are cached, and changes sync when you reconnect.",
                    "second": "Attachments need a connection to download.",
                },
                {
                    "app": "Android app",
                    "answer": "Yes, the Android app supports offline editing.",
                    "first": "Turn on offline mode in the app settings for the projects you need.",
                    "second": "Conflicting edits are resolved in favour of the latest change.",
                },
                {
                    "app": "web app",
                    "answer": "No, the web app needs an internet connection.",
                    "first": "Use the desktop or mobile apps if you often work offline.",
                    "second": "Unsaved changes in the browser are kept for a few minutes if the connection drops.",
                },
            ),
        ),
        Intent(
            name="limits",
            queries=(
                "Is there a limit on {limit}?",
                "whats the max for {limit}",
                "Do you cap {limit}?",
                "is {limit} limited on my plan?",
                "Are there any restrictions on {limit}?",
            ),
            answer="{answer}",
            details=("{first}", "{second}"),
            cases=(
                {
                    "limit": "attachment size",
                    "answer": "Yes, each attachment can be up to 250 MB.",
                    "first": "Larger files can be linked from cloud storage instead.",
                    "second": "There is no limit on the total number of attachments.",
                },
                {
                    "limit": "the number of projects on the Free plan",
                    "answer": "Yes, the Free plan allows up to 5 active projects.",
                    "first": "Archived projects do not count towards the limit.",
                    "second": "Paid plans have unlimited projects.",
                },
                {
                    "limit": "API requests",
                    "answer": "Yes, the API allows 100 requests per minute per token.",
                    "first": "Responses include headers that show how many requests remain.",
                    "second": "Contact support if your integration needs a higher limit.",
                },
            ),
        ),
    ),
)

# ================================================================================================== legal

_LEGAL = Topic(
    name="legal",
    description="People with everyday legal questions about housing, work and consumer rights.",
    preference_ids=("citations-required", "tone-formal", "structure-answer-first"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="deposit",
            queries=(
                "My landlord hasn't returned my €{amount} deposit after {weeks} weeks, what can I do?",
                "landlord keeping my deposit ({weeks} weeks now), what are my options?",
                "How do I get my €{amount} deposit back from my landlord?",
                "Is my landlord allowed to keep my deposit for {weeks} weeks?",
                "What are my rights if a landlord withholds a €{amount} deposit?",
            ),
            answer="You can demand the €{amount} in writing and, if the landlord does not respond, bring a "
            "claim through a deposit dispute service or a small claims court.",
            details=(
                "Most tenancy laws require the landlord to return the deposit within a fixed period and to "
                "justify every deduction with evidence.",
                "Keep copies of the tenancy agreement, the check-in inventory and any photographs of the property.",
                "A letter that sets a deadline of 14 days is often enough to resolve the matter after {weeks} "
                "weeks of delay.",
            ),
            cases=(
                {"amount": "1,200", "weeks": "6"},
                {"amount": "900", "weeks": "8"},
                {"amount": "2,000", "weeks": "10"},
            ),
        ),
        Intent(
            name="lease_break",
            queries=(
                "Can I end my lease early with {months} months left?",
                "breaking my rental contract, {months} months still to go, allowed?",
                "How do I get out of a lease that has {months} months remaining?",
                "what happens if i move out {months} months before my lease ends",
                "Am I able to terminate my tenancy {months} months early?",
            ),
            answer="You can usually end a fixed-term lease early only if it contains a break clause or the "
            "landlord agrees in writing.",
            details=(
                "With {months} months left, offering to find a replacement tenant often makes the landlord "
                "more willing to agree.",
                "Without an agreement, you may remain liable for the rent until the landlord re-lets the property.",
                "Read the notice period in your contract before you send any letter.",
            ),
            cases=({"months": "3"}, {"months": "6"}, {"months": "9"}),
        ),
        Intent(
            name="overtime",
            queries=(
                "My employer doesn't pay me for {hours} hours of overtime a week, is that legal?",
                "unpaid overtime, {hours} hours every week, can they do that?",
                "Do I have to work {hours} hours of overtime for free?",
                "how can i claim pay for {hours} hours of weekly overtime",
                "Is it lawful for my boss to skip paying {hours} hours of overtime?",
            ),
            answer="No, in most cases your employer must pay for overtime or give time off in lieu when your "
            "contract or the applicable law requires it.",
            details=(
                "Check your employment contract and any collective agreement, because they usually define "
                "how overtime is compensated.",
                "Record the {hours} extra hours each week with dates and times, since written records carry "
                "weight in a dispute.",
                "If an informal request fails, you can raise a formal grievance or contact the labour inspectorate.",
            ),
            cases=({"hours": "5"}, {"hours": "8"}, {"hours": "12"}),
        ),
        Intent(
            name="images",
            queries=(
                "Can I use images I found on Google on my {use}?",
                "is it ok to put pictures from google images on a {use}",
                "Do I need permission to use online photos on my {use}?",
                "copyright rules for images on a {use}?",
                "What are the rules for using internet photos on a {use}?",
            ),
            answer="No, you should not use an image from a search engine without permission, because "
            "copyright applies even when no notice is shown.",
            details=(
                "Use images with a clear licence, such as Creative Commons, and follow the attribution terms.",
                "For a {use}, a licence from a stock photo library is the safest option.",
                "If you receive a takedown request, remove the image promptly and seek advice before paying "
                "any claimed fee.",
            ),
            cases=({"use": "company website"}, {"use": "personal blog"}, {"use": "client presentation"}),
        ),
        Intent(
            name="returns",
            queries=(
                "I bought {item} online {days} days ago, can I still return it?",
                "returning {item} ordered online {days} days ago, is it too late?",
                "Can I cancel an online order for {item} after {days} days?",
                "do i have a right to send back {item} i bought online {days} days ago",
                "What are my return rights for {item} bought online {days} days ago?",
            ),
            answer="{verdict}",
            details=(
                "Send your cancellation in writing so that you have proof of the date.",
                "If the {item} is faulty, separate warranty rights apply for at least two years.",
                "The seller must refund you within 14 days of receiving your cancellation.",
            ),
            cases=(
                {
                    "item": "a laptop",
                    "days": "10",
                    "verdict": "Yes, within the European Union you have 14 days from delivery to cancel an online "
                    "purchase without giving a reason.",
                },
                {
                    "item": "a pair of shoes",
                    "days": "20",
                    "verdict": "No, the statutory 14-day cancellation period has passed, although the seller may "
                    "offer a longer voluntary return policy.",
                },
                {
                    "item": "a sofa",
                    "days": "5",
                    "verdict": "Yes, you can still cancel, because the 14-day period runs from the day of delivery.",
                },
            ),
        ),
        Intent(
            name="small_claims",
            queries=(
                "How do I take someone to small claims court for €{amount}?",
                "small claims for €{amount}, how does it work?",
                "Someone owes me €{amount}, should I go to small claims court?",
                "do i need a lawyer to sue for €{amount}",
                "What is the process for recovering €{amount} through the courts?",
            ),
            answer="You can bring a claim of €{amount} through a simplified small claims procedure, which "
            "does not require a lawyer in most European countries.",
            details=(
                "Send a formal letter before action that gives the other party 14 days to pay.",
                "Court fees for a claim of this size are usually modest and can be recovered if you win.",
                "Bring copies of contracts, invoices and messages that prove the debt.",
            ),
            cases=({"amount": "800"}, {"amount": "2,500"}, {"amount": "4,000"}),
        ),
        Intent(
            name="will",
            queries=(
                "Do I need a lawyer to write a will {situation}?",
                "making a will {situation}, is a lawyer required?",
                "can i write my own will {situation}",
                "Is a homemade will valid {situation}?",
                "Should I use a solicitor for my will {situation}?",
            ),
            answer="No, you do not need a lawyer to make a valid will, but it must meet the formal "
            "requirements of your jurisdiction.",
            details=(
                "{advice}",
                "Most systems require the will to be signed and, in many countries, witnessed by two "
                "independent people.",
                "Store the original in a safe place and tell your executor where it is.",
            ),
            cases=(
                {
                    "situation": "if I own a house",
                    "advice": "Property held jointly may pass outside the will, so check how the title is held.",
                },
                {
                    "situation": "with two young children",
                    "advice": "Name a guardian for the children, which only a will can do.",
                },
                {
                    "situation": "while living abroad",
                    "advice": "Cross-border estates raise conflicts of law, so professional advice is worth the cost.",
                },
            ),
        ),
        Intent(
            name="non_compete",
            queries=(
                "Is a {months}-month non-compete clause enforceable?",
                "my contract has a {months} month non-compete, is that legal?",
                "Can my employer stop me working for a competitor for {months} months?",
                "how binding is a {months} month noncompete",
                "Will a {months}-month non-compete hold up if I change jobs?",
            ),
            answer="A {months}-month non-compete clause is enforceable only if it protects a legitimate "
            "business interest and is reasonable in duration, area and scope.",
            details=(
                "{detail}",
                "Some countries also require the employer to pay compensation for the restricted period.",
                "Ask for independent legal advice before you sign or rely on the clause.",
            ),
            cases=(
                {
                    "months": "6",
                    "detail": "Six months is often accepted for senior roles with access to confidential information.",
                },
                {"months": "12", "detail": "Twelve months is at the upper end and needs a strong justification."},
                {"months": "24", "detail": "Courts rarely uphold restrictions as long as 24 months."},
            ),
        ),
    ),
)

# ================================================================================================== health

_HEALTH = Topic(
    name="health",
    description="People asking everyday health and wellbeing questions.",
    preference_ids=("length-short", "format-prose"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="sleep",
            queries=(
                "How many hours of sleep do {who} need?",
                "how much sleep is enough for {who}",
                "Is 6 hours of sleep ok for {who}?",
                "recommended sleep for {who}?",
                "What's a healthy amount of sleep for {who}?",
            ),
            answer="{who_cap} generally need {hours} of sleep a night.",
            details=(
                "Regular bed and wake times help more than sleeping in at weekends.",
                "Keep screens out of the last hour before bed.",
                "See a doctor if you snore loudly or feel tired despite enough sleep.",
            ),
            cases=(
                {"who": "adults", "who_cap": "Adults", "hours": "7 to 9 hours"},
                {"who": "teenagers", "who_cap": "Teenagers", "hours": "8 to 10 hours"},
                {"who": "older adults", "who_cap": "Older adults", "hours": "7 to 8 hours"},
            ),
        ),
        Intent(
            name="headache",
            queries=(
                "What helps with a {kind} headache?",
                "how do i get rid of a {kind} headache",
                "Any remedies for a {kind} headache?",
                "{kind} headache again, what should I do?",
                "What can I take for a {kind} headache?",
            ),
            answer="{remedy}",
            details=(
                "A glass of water and a short walk outside often help.",
                "Paracetamol or ibuprofen at the label dose is fine for occasional headaches.",
                "Get urgent help for a sudden, severe headache or one with a stiff neck or confusion.",
            ),
            cases=(
                {
                    "kind": "tension",
                    "remedy": "Rest, gentle neck stretches and a warm compress usually ease a tension headache.",
                },
                {
                    "kind": "screen",
                    "remedy": "Take a break from the screen every 20 minutes and look at something far away.",
                },
                {
                    "kind": "hangover",
                    "remedy": "Rehydrate slowly and eat something plain, because dehydration drives most of the pain.",
                },
            ),
        ),
        Intent(
            name="cold",
            queries=(
                "How long does a {illness} usually last?",
                "when will my {illness} go away",
                "Should I see a doctor for a {illness}?",
                "{illness} for a week now, is that normal?",
                "What's the normal recovery time for a {illness}?",
            ),
            answer="A {illness} usually lasts {duration}.",
            details=(
                "Rest, fluids and honey for a cough are the most useful home treatments.",
                "Antibiotics do not help with viral infections.",
                "See a doctor if you have a high fever for more than three days or trouble breathing.",
            ),
            cases=(
                {"illness": "common cold", "duration": "7 to 10 days"},
                {"illness": "flu", "duration": "about a week, although tiredness can linger for two"},
                {"illness": "sore throat", "duration": "3 to 7 days"},
            ),
        ),
        Intent(
            name="back_pain",
            queries=(
                "My lower back hurts after {trigger}, what can I do?",
                "back pain from {trigger}, any tips?",
                "how do i stop my back hurting after {trigger}",
                "Is it bad that my back aches after {trigger}?",
                "What helps lower back pain caused by {trigger}?",
            ),
            answer="Keep moving gently, because rest in bed usually slows recovery from back pain after {trigger}.",
            details=(
                "{tip}",
                "Heat packs and simple painkillers can help in the first few days.",
                "See a doctor if the pain spreads down a leg or comes with numbness.",
            ),
            cases=(
                {"trigger": "sitting at a desk all day", "tip": "Stand up and walk for a few minutes every half hour."},
                {"trigger": "gardening", "tip": "Bend your knees and keep loads close to your body next time."},
                {"trigger": "a long drive", "tip": "Stop every two hours to stretch and walk."},
            ),
        ),
        Intent(
            name="hydration",
            queries=(
                "How much water should {who} drink a day?",
                "daily water intake for {who}?",
                "is 8 glasses of water a day right for {who}",
                "how do i know if {who} are drinking enough water",
                "What's a sensible daily fluid intake for {who}?",
            ),
            answer="{who_cap} need roughly {amount} of fluid a day, including what comes from food.",
            details=(
                "Pale yellow urine is a simple sign that you are drinking enough.",
                "You need more in hot weather or when you exercise.",
                "Tea and coffee count towards the total.",
            ),
            cases=(
                {"who": "adults", "who_cap": "Adults", "amount": "1.5 to 2 litres"},
                {"who": "older people", "who_cap": "Older people", "amount": "1.5 litres"},
                {"who": "active people", "who_cap": "Active people", "amount": "2 to 3 litres"},
            ),
        ),
        Intent(
            name="sugar",
            queries=(
                "How much sugar is too much for {who}?",
                "daily sugar limit for {who}?",
                "is a can of soda a day too much sugar for {who}",
                "How much added sugar can {who} have?",
                "What's the recommended sugar intake for {who}?",
            ),
            answer="{who_cap} should keep added sugar under {limit} a day.",
            details=(
                "A single can of soda already contains about 35 g.",
                "Sugar in whole fruit and plain milk does not count towards this limit.",
                "Check labels for syrups and juice concentrates, which are also added sugar.",
            ),
            cases=(
                {"who": "adults", "who_cap": "Adults", "limit": "30 g"},
                {"who": "children aged 7 to 10", "who_cap": "Children aged 7 to 10", "limit": "24 g"},
                {"who": "children aged 4 to 6", "who_cap": "Children aged 4 to 6", "limit": "19 g"},
            ),
        ),
        Intent(
            name="caffeine",
            queries=(
                "How much {drink} is safe per day?",
                "is too much {drink} bad for me",
                "daily limit for {drink}?",
                "how many cups of {drink} can i have",
                "What's a safe daily amount of {drink}?",
            ),
            answer="{limit}",
            details=(
                "Avoid caffeine in the six hours before bed.",
                "Pregnant women should stay under 200 mg of caffeine a day.",
                "Reduce it gradually if you get headaches when you cut down.",
            ),
            cases=(
                {"drink": "coffee", "limit": "Most adults can safely drink up to four cups of coffee a day."},
                {"drink": "energy drinks", "limit": "One energy drink a day is the most adults should have."},
                {"drink": "black tea", "limit": "Up to six cups of black tea a day is safe for most adults."},
            ),
        ),
        Intent(
            name="vitamin_d",
            queries=(
                "Should I take vitamin D in {season}?",
                "vitamin d supplement during {season}, yes or no?",
                "do i need vitamin d in {season}",
                "How much vitamin D should I take in {season}?",
                "Is a vitamin D supplement worth it in {season}?",
            ),
            answer="{advice}",
            details=(
                "Oily fish, eggs and fortified foods provide small amounts.",
                "Do not exceed 100 micrograms a day unless a doctor advises it.",
                "People with dark skin or little sun exposure may need it all year.",
            ),
            cases=(
                {
                    "season": "winter",
                    "advice": "Most adults in northern countries benefit from 10 micrograms of vitamin D a day in "
                    "winter.",
                },
                {"season": "autumn", "advice": "Starting 10 micrograms a day in autumn is sensible for most adults."},
                {"season": "summer", "advice": "Most people get enough vitamin D from sunlight in summer."},
            ),
        ),
    ),
)

# ================================================================================================== gardening

_GARDENING = Topic(
    name="gardening",
    description="Home gardeners asking about planting, watering and plant care.",
    preference_ids=("format-prose", "emoji-none"),
    known_preference_ids=("language-en", "tone-polite"),
    intents=(
        Intent(
            name="planting",
            queries=(
                "When should I plant {crop}?",
                "best time to plant {crop} outside?",
                "is it too early to plant {crop}",
                "When do I sow {crop} in a temperate climate?",
                "What month is right for planting {crop}?",
            ),
            answer="Plant {crop} {when}.",
            details=("{why}", "{spacing}", "Water them in well on the day you plant."),
            cases=(
                {
                    "crop": "tomatoes",
                    "when": "outside after the last frost, usually in mid to late May",
                    "why": "They need warm soil and are killed by frost.",
                    "spacing": "Leave about 50 cm between plants so air can move.",
                },
                {
                    "crop": "garlic",
                    "when": "in autumn, from October to November",
                    "why": "A cold spell helps the cloves split into full bulbs.",
                    "spacing": "Set cloves 15 cm apart with the pointed end up.",
                },
                {
                    "crop": "potatoes",
                    "when": "from March to April",
                    "why": "Early planting gives you new potatoes by midsummer.",
                    "spacing": "Space them 30 cm apart in rows 60 cm apart.",
                },
                {
                    "crop": "lettuce",
                    "when": "every three weeks from March to August",
                    "why": "Small regular sowings give a steady harvest instead of a glut.",
                    "spacing": "Thin the seedlings to 25 cm apart.",
                },
            ),
        ),
        Intent(
            name="watering",
            queries=(
                "How often should I water {plant}?",
                "watering schedule for {plant}?",
                "am i overwatering my {plant}",
                "How much water do {plant} need?",
                "What's the right way to water {plant}?",
            ),
            answer="Water {plant} {how}.",
            details=(
                "{sign}",
                "Water at the base of the plant rather than over the leaves.",
                "Morning watering loses less to evaporation.",
            ),
            cases=(
                {
                    "plant": "succulents",
                    "how": "only when the soil has dried out completely",
                    "sign": "Soft, translucent leaves are a sign of too much water.",
                },
                {
                    "plant": "tomatoes in pots",
                    "how": "every day in summer, thoroughly",
                    "sign": "Irregular watering causes split fruit and blossom end rot.",
                },
                {
                    "plant": "a new lawn",
                    "how": "lightly every day for the first two weeks",
                    "sign": "After that, water deeply once a week to encourage deep roots.",
                },
                {
                    "plant": "orchids",
                    "how": "about once a week by soaking the pot for 10 minutes",
                    "sign": "Silvery roots mean the plant is ready for water.",
                },
            ),
        ),
        Intent(
            name="pruning",
            queries=(
                "When should I prune {plant}?",
                "how do i prune {plant}",
                "Best time of year to cut back {plant}?",
                "How hard can I prune {plant}?",
                "What's the right way to prune {plant}?",
            ),
            answer="Prune {plant} {when}.",
            details=(
                "{how}",
                "Use clean, sharp secateurs to avoid spreading disease.",
                "Remove dead or crossing stems first.",
            ),
            cases=(
                {
                    "plant": "roses",
                    "when": "in late winter, just as the buds begin to swell",
                    "how": "Cut just above an outward-facing bud at a slight angle.",
                },
                {
                    "plant": "hydrangeas",
                    "when": "in early spring, once the risk of frost has passed",
                    "how": "On mophead types, cut back to the first pair of healthy buds.",
                },
                {
                    "plant": "lavender",
                    "when": "right after flowering in late summer",
                    "how": "Trim the green growth but avoid cutting into old wood.",
                },
                {
                    "plant": "apple trees",
                    "when": "in winter while the tree is dormant",
                    "how": "Aim for an open centre so light reaches the fruit.",
                },
            ),
        ),
        Intent(
            name="compost",
            queries=(
                "Can I compost {material}?",
                "{material} in the compost heap, ok or not?",
                "How do I compost {material}?",
                "should {material} go in my compost bin",
                "Is it a good idea to add {material} to compost?",
            ),
            answer="{answer}",
            details=(
                "{tip}",
                "Turn the heap every few weeks to add air.",
                "A good mix is roughly equal amounts of green and brown material.",
            ),
            cases=(
                {
                    "material": "coffee grounds",
                    "answer": "Yes, coffee grounds are an excellent green material.",
                    "tip": "Paper filters can go in too.",
                },
                {
                    "material": "grass cuttings",
                    "answer": "Yes, grass cuttings compost well in thin layers.",
                    "tip": "Thick layers turn slimy, so mix them with cardboard or leaves.",
                },
                {
                    "material": "cooked food",
                    "answer": "No, cooked food and meat attract rats to an open heap.",
                    "tip": "A sealed bokashi bin can handle them instead.",
                },
                {
                    "material": "autumn leaves",
                    "answer": "Yes, autumn leaves make excellent leaf mould.",
                    "tip": "Pile them separately in a bag and leave them for a year.",
                },
            ),
        ),
        Intent(
            name="pests",
            queries=(
                "How do I get rid of {pest} on my {plant}?",
                "{pest} all over my {plant}, help",
                "natural way to deal with {pest} on {plant}?",
                "what kills {pest} on {plant} without chemicals",
                "How can I protect my {plant} from {pest}?",
            ),
            answer="{answer}",
            details=(
                "{tip}",
                "Check the plants every few days so problems do not build up.",
                "Encourage birds and beneficial insects, which keep most pests in check.",
            ),
            cases=(
                {
                    "pest": "aphids",
                    "plant": "roses",
                    "answer": "Spray aphids off with a strong jet of water or squash them by hand.",
                    "tip": "Ladybirds and their larvae eat large numbers of aphids.",
                },
                {
                    "pest": "slugs",
                    "plant": "lettuces",
                    "answer": "Go out at dusk with a torch and remove slugs by hand.",
                    "tip": "Beer traps and copper tape also reduce the damage.",
                },
                {
                    "pest": "whitefly",
                    "plant": "tomatoes",
                    "answer": "Hang yellow sticky traps and plant French marigolds between the tomatoes.",
                    "tip": "Good airflow in the greenhouse makes whitefly less likely.",
                },
            ),
        ),
        Intent(
            name="repotting",
            queries=(
                "When should I repot my {plant}?",
                "how do i know if my {plant} needs a bigger pot",
                "Repotting a {plant}, any tips?",
                "what soil should i use to repot a {plant}",
                "How often does a {plant} need repotting?",
            ),
            answer="Repot a {plant} {when}.",
            details=(
                "{soil}",
                "Choose a pot only one size larger, with drainage holes.",
                "Water lightly and keep it out of direct sun for a week afterwards.",
            ),
            cases=(
                {
                    "plant": "monstera",
                    "when": "every one to two years in spring, when roots circle the pot",
                    "soil": "Use a chunky mix of compost, bark and perlite.",
                },
                {
                    "plant": "snake plant",
                    "when": "only when it cracks or bulges its pot",
                    "soil": "A cactus mix drains well and prevents rot.",
                },
                {
                    "plant": "peace lily",
                    "when": "in spring when it wilts quickly after watering",
                    "soil": "Use a standard houseplant compost.",
                },
            ),
        ),
        Intent(
            name="herbs",
            queries=(
                "How do I grow {herb} indoors?",
                "growing {herb} on a windowsill, tips?",
                "my indoor {herb} keeps dying, why",
                "Can {herb} grow inside all year?",
                "What does {herb} need to thrive indoors?",
            ),
            answer="Grow {herb} on {spot}.",
            details=(
                "{care}",
                "Pinch off the tips regularly to keep the plant bushy.",
                "Turn the pot every few days so it grows evenly.",
            ),
            cases=(
                {
                    "herb": "basil",
                    "spot": "a warm, sunny windowsill away from draughts",
                    "care": "Water when the top of the soil is dry and never leave it sitting in water.",
                },
                {
                    "herb": "mint",
                    "spot": "a bright windowsill in its own pot",
                    "care": "Keep the soil moist, because mint dislikes drying out.",
                },
                {
                    "herb": "rosemary",
                    "spot": "the sunniest window you have",
                    "care": "Let the soil dry between waterings, because rosemary hates wet roots.",
                },
            ),
        ),
        Intent(
            name="lawn",
            queries=(
                "How short should I mow my lawn in {season}?",
                "mowing height for {season}?",
                "how often should i mow in {season}",
                "Lawn care tips for {season}?",
                "What's the right mowing routine in {season}?",
            ),
            answer="In {season}, mow {how}.",
            details=(
                "{extra}",
                "Never remove more than a third of the blade in one cut.",
                "Keep the mower blade sharp so it cuts cleanly instead of tearing.",
            ),
            cases=(
                {
                    "season": "spring",
                    "how": "once a week and keep the grass at about 4 cm",
                    "extra": "Start with a high setting for the first cut of the year.",
                },
                {
                    "season": "summer",
                    "how": "less often and leave the grass longer, around 5 cm",
                    "extra": "Longer grass shades the soil and survives dry spells better.",
                },
                {
                    "season": "autumn",
                    "how": "every two weeks and raise the height to about 5 cm",
                    "extra": "Rake up fallen leaves so they do not smother the grass.",
                },
            ),
        ),
    ),
)

TOPICS: tuple[Topic, ...] = (
    _COOKING,
    _FINANCE,
    _PYTHON,
    _TRAVEL,
    _FITNESS,
    _SUPPORT,
    _LEGAL,
    _HEALTH,
    _GARDENING,
)
TOPICS_BY_NAME: dict[str, Topic] = {topic.name: topic for topic in TOPICS}


def get_topic(name: str) -> Topic:
    """The topic called ``name``; a clear error lists the known ones."""
    try:
        return TOPICS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; known: {', '.join(TOPICS_BY_NAME)}") from None
