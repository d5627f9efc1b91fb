// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Plan, Rental, RentalTerms, CloseReason, RentParams} from "../types/DataTypes.sol";

/// @title IRentalEscrow
/// @notice Renters pay for GPUs into escrow; providers withdraw what has accrued.
/// - Pay-as-you-go: the deposit buys seconds at `unitPrice` per second; top up and end any time.
/// - Hourly: the deposit buys hours at `unitPrice` per hour, each charged when it starts.
/// - Saving: a 7, 30 or 90-day term prepaid at a discount, streamed over the term; the provider's
///   stake for those GPUs is locked until the rental closes; ending early costs a penalty.
/// When a pay-as-you-go or hourly balance runs out, a grace period starts in which the renter can
/// top up (the workload is paused, not charged); after it anyone may close the rental. A protocol
/// fee is taken from provider earnings. Every close records a `CloseReason`.
/// @dev Amounts are in the payment token's units; times are Unix seconds; fees are bps.
/// @dev Warning: only plain ERC-20 tokens may be allow-listed. Fee-on-transfer tokens are refused
/// by a balance-delta check on every deposit; rebasing tokens cannot be detected and must never be
/// allow-listed.
interface IRentalEscrow {
    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice New rentals and top-ups are paused.
    error RentalEscrow_Paused();
    /// @notice A rental needs at least one GPU and at most 255.
    error RentalEscrow_InvalidGpuCount(uint256 gpus);
    /// @notice `token` is not an allow-listed, enabled payment token.
    error RentalEscrow_TokenNotAllowed(address token);
    /// @notice `termDays` is not valid for `plan` (saving: 7, 30 or 90; others: 0).
    error RentalEscrow_InvalidTerm(Plan plan, uint256 termDays);
    /// @notice The deposit `deposit` is below `minimum` (one unit), or nonzero for a saving plan.
    error RentalEscrow_InvalidDeposit(uint256 deposit, uint256 minimum);
    /// @notice The node's `price` per GPU-hour is above the renter's `maxPrice`.
    error RentalEscrow_PriceAboveCap(uint256 nodeId, uint256 price, uint256 maxPrice);
    /// @notice An amount does not fit the packed storage (max `max`).
    error RentalEscrow_AmountTooLarge(uint256 amount, uint256 max);
    /// @notice SLA tier `tier` does not exist (there are `count`).
    error RentalEscrow_UnknownSlaTier(uint256 tier, uint256 count);
    /// @notice Rental `rentalId` does not exist.
    error RentalEscrow_UnknownRental(uint256 rentalId);
    /// @notice Only the renter of `rentalId` may do this.
    error RentalEscrow_NotRenter(uint256 rentalId, address caller);
    /// @notice Only the renter or the provider of `rentalId` may do this.
    error RentalEscrow_NotRentalParty(uint256 rentalId, address caller);
    /// @notice Only the provider of `rentalId`'s node may withdraw its earnings.
    error RentalEscrow_NotProvider(uint256 rentalId, address caller);
    /// @notice Rental `rentalId` is already closed.
    error RentalEscrow_RentalClosed(uint256 rentalId);
    /// @notice Saving plans are prepaid and cannot be topped up.
    error RentalEscrow_TopUpNotAllowed(uint256 rentalId, Plan plan);
    /// @notice The grace period of `rentalId` ended at `graceEnd`; it can only be closed now.
    error RentalEscrow_GraceExpired(uint256 rentalId, uint256 graceEnd);
    /// @notice A top-up that resumes a rental in its grace period must buy a grace period of
    /// runtime: at least `minimum` token units.
    error RentalEscrow_TopUpTooSmall(uint256 rentalId, uint256 amount, uint256 minimum);
    /// @notice Saving plans are prepaid: they have no grace period.
    error RentalEscrow_NoGracePeriod(uint256 rentalId);
    /// @notice Rental `rentalId` is paid until `paidUntil`; it has not run out.
    error RentalEscrow_NotDepleted(uint256 rentalId, uint256 paidUntil);
    /// @notice Rental `rentalId` is already flagged as in its grace period.
    error RentalEscrow_AlreadyInGrace(uint256 rentalId);
    /// @notice Rental `rentalId` may be closed by anyone only from `closableAt`.
    error RentalEscrow_NotClosable(uint256 rentalId, uint256 closableAt);
    /// @notice `reason` cannot be used here.
    error RentalEscrow_InvalidCloseReason(CloseReason reason);
    /// @notice Rental `rentalId` is not paid in `token`.
    error RentalEscrow_TokenMismatch(uint256 rentalId, address token);
    /// @notice There is nothing to withdraw.
    error RentalEscrow_NothingToWithdraw();
    /// @notice `token` delivered `received` instead of `expected` (fee-on-transfer tokens are refused).
    error RentalEscrow_FeeOnTransfer(address token, uint256 expected, uint256 received);
    /// @notice A governance parameter is outside `[min, max]`.
    error RentalEscrow_ParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice A setter was called with the value already in force.
    error RentalEscrow_AlreadySet();
    /// @notice An address argument was the zero address.
    error RentalEscrow_ZeroAddress();
    /// @notice An amount was zero.
    error RentalEscrow_ZeroAmount();
    /// @notice Rental `rentalId` runs on node `expected`, not `nodeId`.
    error RentalEscrow_WrongNode(uint256 rentalId, uint256 nodeId, uint256 expected);
    /// @notice Node uptime `uptimeBps` meets the rental's SLA target `targetBps` (0: no SLA).
    error RentalEscrow_NoSlaBreach(uint256 rentalId, uint256 uptimeBps, uint256 targetBps);
    /// @notice Rental `rentalId` served nothing worth a credit in `[from, to)`.
    error RentalEscrow_NothingToCredit(uint256 rentalId, uint256 from, uint256 to);
    /// @notice The permit for `amount` of `token` failed and the caller's allowance to the escrow is
    /// only `allowance` (an expired or wrongly signed permit, or one for another amount).
    error RentalEscrow_PermitFailed(address token, uint256 allowance, uint256 amount);
    /// @notice An SLA credit schedule must have 1 to 8 steps, shortfalls rising from 1 bps and credits
    /// rising up to 100%; step `index` breaks that.
    error RentalEscrow_InvalidCreditSchedule(uint256 index);
    /// @notice A first deposit must pay for at least the grace period of the current terms (PAYG:
    /// `unitPrice x gracePeriod`; Hourly: the hours covering it): `minimum` token units.
    error RentalEscrow_DepositBelowGrace(uint256 deposit, uint256 minimum);
    /// @notice GPU class `gpuClass` does not exist: the registry has `classCount` classes.
    error RentalEscrow_UnknownGpuClass(uint256 gpuClass, uint256 classCount);
    /// @notice Node `nodeId` asks `pricePerGpuHour`, below the governance floor `floor` of its GPU
    /// class in the payment token.
    error RentalEscrow_PriceBelowFloor(uint256 nodeId, uint256 pricePerGpuHour, uint256 floor);

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice A rental started.
    /// @param unitPrice Token units per second (PayAsYouGo) or per hour (Hourly; Saving: discounted).
    /// @param deposit Token units escrowed.
    event OpenRental(
        uint256 indexed rentalId,
        address indexed renter,
        uint256 indexed nodeId,
        address token,
        Plan plan,
        uint256 gpus,
        uint256 unitPrice,
        uint256 deposit,
        uint256 termDays,
        uint256 slaTier
    );
    /// @notice The renter added `amount`; the rental is now paid until `paidUntil`.
    event TopUpRental(uint256 indexed rentalId, uint256 amount, uint256 deposit, uint256 paidUntil);
    /// @notice The balance of `rentalId` ran out at `paidUntil`; it may be closed from `graceEnd`.
    event EnterGracePeriod(uint256 indexed rentalId, address indexed renter, uint256 paidUntil, uint256 graceEnd);
    /// @notice A rental closed for `reason`: `providerAmount` is the provider's (gross of the fee),
    /// `refund` the renter's, `penalty` the saving plan's early-exit penalty. Sign convention: for
    /// `CloseReason.Renter` the renter pays it (included in `providerAmount`, taken from `refund`);
    /// for `CloseReason.Provider` the provider pays it TO the renter (taken from `providerAmount`,
    /// included in `refund`). 0 for every other close.
    event CloseRental(
        uint256 indexed rentalId,
        CloseReason indexed reason,
        address indexed closedBy,
        uint256 providerAmount,
        uint256 refund,
        uint256 penalty
    );
    /// @notice A refund could not be pushed to `renter`; it waits in `refundCredit`.
    event CreditRefund(uint256 indexed rentalId, address indexed renter, address indexed token, uint256 amount);
    /// @notice `renter` claimed its refund credit in `token`.
    event ClaimRefundCredit(address indexed renter, address indexed token, uint256 amount);
    /// @notice `provider` withdrew `gross - fee` of `token` from `rentalCount` rentals.
    event WithdrawEarnings(
        address indexed provider,
        address indexed token,
        uint256 rentalCount,
        uint256 gross,
        uint256 fee
    );
    /// @notice Accrued protocol fees in `token` were paid out.
    event WithdrawFees(address indexed token, uint256 toTreasury, uint256 toRewardPool);
    /// @notice Governance allow-listed `token` at `index`.
    event AllowPaymentToken(address indexed token, uint256 index);
    /// @notice Governance enabled or disabled `token` for new rentals and top-ups.
    event SetPaymentTokenEnabled(address indexed token, bool enabled);
    /// @notice Governance changed the terms of new rentals; they are version `version`.
    /// @param feeBps Protocol fee on provider earnings.
    /// @param earlyExitPenaltyBps Saving plans: share of the unused part kept on an early exit.
    /// @param gracePeriod Seconds between running out and being closable.
    event SetRentalTerms(uint256 indexed version, uint256 feeBps, uint256 earlyExitPenaltyBps, uint256 gracePeriod);
    /// @notice The pause guardian paused (`true`) or unpaused new rentals and top-ups.
    event SetPaused(bool paused, address indexed by);
    /// @notice Governance set the discount of the `termDays` saving plan (bps).
    event SetSavingDiscount(uint256 termDays, uint256 discountBps);
    /// @notice Governance set where fees go and the reward pools' share (bps).
    event SetFeeRecipients(address treasury, address rewardPool, uint256 rewardPoolShareBps);
    /// @notice Governance added an SLA tier with a target uptime (bps).
    event AddSlaTier(uint256 indexed tier, uint256 targetUptimeBps);
    /// @notice Governance set the SLA credit schedule: an uptime at least `minShortfallBps[i]` below
    /// the target credits `creditBps[i]` of what the renter paid for the epoch.
    event SetSlaCreditSchedule(uint256[] minShortfallBps, uint256[] creditBps);
    /// @notice Governance set the lowest price per GPU-hour (in `token` units) of GPU class `gpuClass`.
    event SetPriceFloor(uint256 indexed gpuClass, address indexed token, uint256 minPricePerGpuHour);
    /// @notice `renter` was credited `credit` of `token` for an SLA breach on `rentalId`;
    /// `fromEarnings` of it came from the provider's unwithdrawn earnings on that rental (the rest is
    /// for the caller to take from the provider's stake).
    event CreditSla(
        uint256 indexed rentalId,
        address indexed renter,
        address indexed token,
        uint256 creditBps,
        uint256 credit,
        uint256 fromEarnings
    );

    /* ------------------------------------------------------------------ */
    /*                               RENTERS                              */
    /* ------------------------------------------------------------------ */

    /// @notice Rents `p.gpus` GPUs of node `p.nodeId`, paying in `p.token` from the caller.
    /// A pay-as-you-go or hourly deposit must pay for at least the grace period (see
    /// `RentalEscrow_DepositBelowGrace`): GPUs are never held through an uncharged grace period
    /// the deposit does not pay for.
    /// @dev Reverts while paused; if the node's price exceeds `p.maxPricePerGpuHour` or is below the
    /// floor of its GPU class (`priceFloor`); if the node is paused, jailed, retired, in maintenance,
    /// under-staked or lacks free GPUs. Pulls the deposit (approve or permit first). Emits `OpenRental`.
    /// @param p The node, GPUs, token, plan, deposit, term, price cap and SLA tier.
    /// @return rentalId The new rental's id (ids start at 1).
    function rent(RentParams calldata p) external returns (uint256 rentalId);

    /// @notice `rent` paid with an EIP-2612 permit: one signature and one transaction, no approval.
    /// The permit must be the caller's, for this escrow, of exactly the deposit (`p.deposit`; for a
    /// saving plan the prepaid term, `unitPrice x 24 x termDays`). If the permit call fails but the
    /// allowance already covers the deposit (someone front-ran the permit with the same signature),
    /// the rent goes on.
    /// @dev Reverts as `rent` does, and with `RentalEscrow_PermitFailed` when the permit fails and
    /// the allowance is short. Emits `OpenRental` (and the token's `Approval`).
    /// @param p The node, GPUs, token, plan, deposit, term, price cap and SLA tier.
    /// @param deadline The permit's deadline (Unix seconds).
    /// @param v The permit signature's `v`.
    /// @param r The permit signature's `r`.
    /// @param s The permit signature's `s`.
    /// @return rentalId The new rental's id.
    function rentWithPermit(
        RentParams calldata p,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 rentalId);

    /// @notice Adds `amount` to a pay-as-you-go or hourly rental. Inside the grace period it resumes
    /// the rental from now (grace time is not charged) and must buy at least a grace period of
    /// runtime. Only the renter; reverts while paused. Works for a token disabled since the rental
    /// opened (running rentals are not stranded).
    /// @dev Emits `TopUpRental`.
    /// @param rentalId A pay-as-you-go or hourly rental of the caller.
    /// @param amount Token units pulled from the caller (approve or permit first).
    function topUp(uint256 rentalId, uint256 amount) external;

    /// @notice `topUp` paid with an EIP-2612 permit of exactly `amount` to this escrow: one signature,
    /// one transaction. A failed permit (e.g. front-run) is no error if the allowance covers `amount`.
    /// @dev Reverts as `topUp` does, and with `RentalEscrow_PermitFailed` when the permit fails and
    /// the allowance is short. Emits `TopUpRental`.
    /// @param rentalId A pay-as-you-go or hourly rental of the caller.
    /// @param amount Token units pulled from the caller (the permit's value).
    /// @param deadline The permit's deadline (Unix seconds).
    /// @param v The permit signature's `v`.
    /// @param r The permit signature's `r`.
    /// @param s The permit signature's `s`.
    function topUpWithPermit(
        uint256 rentalId,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Ends a rental now. The renter gets the unused deposit back; the provider keeps what was
    /// earned. Callable by the renter (reason `Renter`) or the provider (reason `Provider`). A saving
    /// plan ended early costs the party that ends it the early-exit penalty (`earlyExitPenaltyBps` of
    /// the unused part): the renter pays it to the provider; the provider pays it to the renter from
    /// its earnings on this rental (at most those earnings: see `withdrawable`, which holds it back).
    /// Works while paused.
    /// @dev Emits `CloseRental`; when the provider ends it, `CreditRefund` if the refund push fails.
    /// @param rentalId An open rental of the caller (as renter or provider).
    function endRental(uint256 rentalId) external;

    /// @notice Records that a pay-as-you-go or hourly rental ran out and its grace period started.
    /// Anyone (keepers) may call it once the balance is spent. Emits `EnterGracePeriod`.
    /// @param rentalId An open pay-as-you-go or hourly rental.
    function flagGracePeriod(uint256 rentalId) external;

    /// @notice Closes a rental whose grace period has passed (`InsufficientFunds`) or whose saving
    /// term has ended (`Expired`). Anyone may call it. Works while paused.
    /// @dev The refund is pushed to the renter, or credited to `refundCredit` if the push fails.
    /// Emits `CloseRental`, and `CreditRefund` if the push fails.
    /// @param rentalId An open rental, closable (see `closableAt`).
    function closeRental(uint256 rentalId) external;

    /// @notice Claims refunds that could not be pushed to the caller. Works while paused.
    /// Emits `ClaimRefundCredit`.
    /// @param token The token of the refunds.
    /// @return amount Token units sent to the caller.
    function claimRefundCredit(address token) external returns (uint256 amount);

    /* ------------------------------------------------------------------ */
    /*                              PROVIDERS                             */
    /* ------------------------------------------------------------------ */

    /// @notice Withdraws what the caller's nodes have earned in `token` on `rentalIds`, net of the
    /// protocol fee. Works while paused.
    /// @dev Every rental must be paid in `token` and run on a node of the caller. Emits `WithdrawEarnings`.
    /// @param token An allow-listed payment token (enabled or not).
    /// @param rentalIds Rentals, open or closed, to collect from (best grouped by node).
    /// @return net Token units sent to the caller.
    function withdrawEarnings(address token, uint256[] calldata rentalIds) external returns (uint256 net);

    /* ------------------------------------------------------------------ */
    /*                          PROTOCOL ROLES                            */
    /* ------------------------------------------------------------------ */

    /// @notice Closes a rental for a provider-side fault: the renter gets every unused unit back,
    /// with no penalty. A saving plan closed for `ProviderSlashed` is refunded in full: the renter
    /// also gets what the provider earned on it and had not withdrawn (what the provider already
    /// withdrew, the SlaEnforcer pays back from the provider's stake). Only `ORACLE_ROLE`; `reason`
    /// is `SlaBreach` or `ProviderSlashed`. Emits `CloseRental` (for a slashed saving plan its
    /// `providerAmount` is the value already withdrawn by the provider or credited to the renter),
    /// and `CreditRefund` if the refund push fails.
    /// @param rentalId An open rental.
    /// @param reason `SlaBreach` or `ProviderSlashed`.
    function closeForProviderFault(uint256 rentalId, CloseReason reason) external;

    /// @notice Credits the renter of `rentalId` for an SLA breach in the epoch `[from, to)`: node
    /// `nodeId` had attested uptime `uptimeBps`, below the rental's SLA target. The credit is the
    /// schedule's share of what the renter paid for the part of its service window inside the
    /// epoch. It is paid from the provider's unwithdrawn earnings on this rental (pushed to the
    /// renter, or credited to `refundCredit` if the push fails); the rest is returned for the caller
    /// to take from the provider's stake. Open rentals give up whole earned units (an hour for Hourly),
    /// so the part of a credit below one unit's price comes from stake. Only `ORACLE_ROLE`, which must
    /// credit each rental and epoch at most once. Emits `CreditSla`, and `CreditRefund` if the push fails.
    /// @param rentalId The rental, open or closed.
    /// @param nodeId The node the uptime was attested for (must be the rental's).
    /// @param uptimeBps The node's attested uptime in the epoch.
    /// @param from Unix seconds the epoch starts.
    /// @param to Unix seconds the epoch ends (exclusive).
    /// @return renter The rental's renter.
    /// @return token The rental's payment token.
    /// @return credit The whole credit in `token` units.
    /// @return fromEarnings The part of `credit` paid from the provider's earnings.
    /// @return plan The rental's plan (the SlaEnforcer counts what saving plans are credited from
    /// earnings, so that a slashed provider's refund from stake leaves those credits out).
    function creditSla(
        uint256 rentalId,
        uint256 nodeId,
        uint256 uptimeBps,
        uint256 from,
        uint256 to
    ) external returns (address renter, address token, uint256 credit, uint256 fromEarnings, Plan plan);

    /// @notice Pays accrued protocol fees in `token` to the treasury and the reward pool. Anyone.
    /// Emits `WithdrawFees`.
    /// @param token The token of the fees.
    function withdrawFees(address token) external;

    /* ------------------------------------------------------------------ */
    /*                             GOVERNANCE                             */
    /* ------------------------------------------------------------------ */

    /// @notice Allow-lists a plain ERC-20 `token` (at most 256), enabled. Only `DEFAULT_ADMIN_ROLE`.
    /// Emits `AllowPaymentToken` and `SetPaymentTokenEnabled`.
    /// @param token The token; never a fee-on-transfer or rebasing one.
    function allowPaymentToken(address token) external;

    /// @notice Enables or disables an allow-listed token for new rentals. Running rentals in it still
    /// top up, end, refund and pay out. Only `DEFAULT_ADMIN_ROLE`. Emits `SetPaymentTokenEnabled`.
    /// @param token An allow-listed token.
    /// @param enabled Whether new rentals may pay in it.
    function setPaymentTokenEnabled(address token, bool enabled) external;

    /// @notice Sets the protocol fee for new rentals, at most 20%. Only `DEFAULT_ADMIN_ROLE`.
    /// @dev Emits `SetRentalTerms` (a new terms version).
    /// @param feeBps The fee on provider earnings, bps.
    function setFeeBps(uint256 feeBps) external;

    /// @notice Sets the grace period for new rentals, 5 minutes to 7 days. Only `DEFAULT_ADMIN_ROLE`.
    /// @dev Emits `SetRentalTerms` (a new terms version).
    /// @param gracePeriod Seconds.
    function setGracePeriod(uint256 gracePeriod) external;

    /// @notice Sets the saving plan early-exit penalty, at most 50%. Only `DEFAULT_ADMIN_ROLE`.
    /// @dev Emits `SetRentalTerms` (a new terms version).
    /// @param penaltyBps Share of the unused part kept on an early exit, bps.
    function setEarlyExitPenaltyBps(uint256 penaltyBps) external;

    /// @notice Sets the discount of the 7, 30 or 90-day saving plan, at most 50%. Only `DEFAULT_ADMIN_ROLE`.
    /// Emits `SetSavingDiscount`.
    /// @param termDays 7, 30 or 90.
    /// @param discountBps The discount, bps.
    function setSavingDiscount(uint256 termDays, uint256 discountBps) external;

    /// @notice Sets the fee recipients and the reward pool's share (bps). Only `DEFAULT_ADMIN_ROLE`.
    /// Emits `SetFeeRecipients`.
    /// @param treasury Receives the rest of the fees.
    /// @param rewardPool Receives the reward pool's share.
    /// @param rewardPoolShareBps The reward pool's share, bps (at most 10,000).
    function setFeeRecipients(address treasury, address rewardPool, uint256 rewardPoolShareBps) external;

    /// @notice Adds an SLA tier with a target uptime between 50% and 100%. Only `DEFAULT_ADMIN_ROLE`.
    /// Emits `AddSlaTier`.
    /// @param targetUptimeBps The target uptime, bps.
    /// @return tier The new tier's id (tier 0 is best effort).
    function addSlaTier(uint256 targetUptimeBps) external returns (uint256 tier);

    /// @notice Sets the lowest price per GPU-hour, in `token` units, at which nodes of GPU class
    /// `gpuClass` may be rented in `token` (0: no floor). Only `DEFAULT_ADMIN_ROLE`. Running rentals
    /// keep their price. Emits `SetPriceFloor`.
    /// @param gpuClass A GPU class id of the registry.
    /// @param token A payment token.
    /// @param minPricePerGpuHour The floor, token units per GPU-hour.
    function setPriceFloor(uint256 gpuClass, address token, uint256 minPricePerGpuHour) external;

    /// @notice Sets the SLA credit schedule: an epoch uptime at least `minShortfallBps[i]` below the
    /// rental's target credits `creditBps[i]` (the last step that applies wins). 1 to 8 steps,
    /// shortfalls strictly rising from at least 1 bps, credits rising, at most 100%. Applies to
    /// credits applied from now on. Only `DEFAULT_ADMIN_ROLE`. Emits `SetSlaCreditSchedule`.
    /// @param minShortfallBps Each step's minimum shortfall below the target, bps.
    /// @param creditBps Each step's credit, bps of what the renter paid for the epoch.
    function setSlaCreditSchedule(uint256[] calldata minShortfallBps, uint256[] calldata creditBps) external;

    /// @notice Stops new rentals and top-ups. Only `PAUSER_ROLE`. Emits `SetPaused`.
    function pause() external;

    /// @notice Lifts `pause`. Only `PAUSER_ROLE`. Emits `SetPaused`.
    function unpause() external;

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @notice Rental `rentalId` (status `None` if unknown).
    /// @param rentalId The rental.
    /// @return The rental record.
    function getRental(uint256 rentalId) external view returns (Rental memory);

    /// @notice Number of rentals ever opened; ids run from 1 to `rentalCount()`.
    /// @return The highest rental id.
    function rentalCount() external view returns (uint256);

    /// @notice Terms of version `version` (fee, early-exit penalty, grace period).
    /// @param version A terms version (a rental's `termsVersion`).
    /// @return The terms (zero for versions not yet set).
    function rentalTerms(uint256 version) external view returns (RentalTerms memory);

    /// @notice The version of the terms new rentals get.
    /// @return The version.
    function currentTermsVersion() external view returns (uint256);

    /// @notice Whether new rentals and top-ups are paused.
    /// @return True while paused.
    function paused() external view returns (bool);

    /// @notice Gross amount the provider can withdraw from `rentalId` now (before the fee). For an open
    /// saving plan, `earlyExitPenaltyBps` of the unused part stays held back (what the provider owes
    /// the renter if it ends the plan early); the hold-back shrinks to 0 at the term's end.
    /// @param rentalId The rental.
    /// @return Token units (0 if unknown).
    function withdrawable(uint256 rentalId) external view returns (uint256);

    /// @notice What the renter would get back by ending `rentalId` now (after any penalty).
    /// @param rentalId The rental.
    /// @return Token units (0 if unknown or closed).
    function refundable(uint256 rentalId) external view returns (uint256);

    /// @notice Unix seconds until which `rentalId` is paid (saving: the term end); 0 once closed.
    /// @param rentalId The rental.
    /// @return Unix seconds (0 if unknown or closed).
    function paidUntil(uint256 rentalId) external view returns (uint256);

    /// @notice Unix seconds from which anyone may close `rentalId` (0 once closed).
    /// @param rentalId The rental.
    /// @return Unix seconds (0 if unknown or closed).
    function closableAt(uint256 rentalId) external view returns (uint256);

    /// @notice The allow-listed payment tokens, by index.
    /// @return The tokens; a rental's `tokenIndex` indexes them.
    function paymentTokens() external view returns (address[] memory);

    /// @notice Whether `token` is allow-listed and enabled.
    /// @param token The token.
    /// @return True if new rentals may pay in it.
    function isPaymentTokenEnabled(address token) external view returns (bool);

    /// @notice Target uptime (bps) of every SLA tier; tier 0 is best effort (no SLA).
    /// @return Targets indexed by tier id.
    function slaTiers() external view returns (uint16[] memory);

    /// @notice The SLA credit schedule (see `setSlaCreditSchedule`).
    /// @return minShortfallBps Each step's minimum shortfall below the target, bps.
    /// @return creditBps Each step's credit, bps.
    function slaCreditSchedule() external view returns (uint256[] memory minShortfallBps, uint256[] memory creditBps);

    /// @notice Credit (bps of the epoch's payment) for uptime `uptimeBps` against target `targetBps`.
    /// @param targetBps An SLA target uptime (0: no SLA).
    /// @param uptimeBps An attested uptime.
    /// @return The credit, bps (0 if no breach).
    function slaCreditBps(uint256 targetBps, uint256 uptimeBps) external view returns (uint256);

    /// @notice The time `rentalId` was paid to serve: from `start` to `end` (Unix seconds). An open
    /// rental's window ends where its earned time ends now; a closed one's where it ended.
    /// @dev The window is one span from the anchor. A rental resumed from its grace period is
    /// re-anchored by the grace time skipped, so its window is off by at most one grace period per
    /// resume (grace is at most 7 days, epochs two weeks): the paid time is right, its position
    /// shifted. Storing every resume would cost a slot per top-up.
    /// @param rentalId A known rental.
    /// @return start Unix seconds the paid time starts (the anchor).
    /// @return end Unix seconds the paid time ends, exclusive.
    function serviceWindow(uint256 rentalId) external view returns (uint256 start, uint256 end);

    /// @notice Protocol fees accrued in `token`, not yet paid out.
    /// @param token The token.
    /// @return Token units.
    function accruedFees(address token) external view returns (uint256);

    /// @notice Refunds in `token` that could not be pushed to `renter`.
    /// @param renter The renter.
    /// @param token The token.
    /// @return Token units claimable with `claimRefundCredit`.
    function refundCredit(address renter, address token) external view returns (uint256);

    /// @notice Saving plan discount (bps) for `termDays` (7, 30 or 90).
    /// @param termDays The term.
    /// @return The discount, bps (0 for other terms).
    function savingDiscountBps(uint256 termDays) external view returns (uint256);

    /// @notice The lowest price per GPU-hour, in `token` units, of GPU class `gpuClass` (0: none).
    /// @param gpuClass A GPU class id.
    /// @param token A payment token.
    /// @return Token units per GPU-hour.
    function priceFloor(uint256 gpuClass, address token) external view returns (uint256);

    /// @notice The node registry.
    /// @return The registry's address.
    function registry() external view returns (address);
}
